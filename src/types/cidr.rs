use std::net::IpAddr;

use super::string_newtype;

/// An address block, `10.0.0.0/16` or `fd00::/64`, in the canonical form
/// a NetworkPolicy's `ipBlock.cidr` takes: no bits set past the prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cidr(String);
string_newtype!(Cidr);

impl Cidr {
    fn parse(s: &str) -> Result<(), String> {
        let bad = || format!("{s:?} is not an address block such as 10.0.0.0/16 or fd00::/64");
        let (addr, len) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let len: u32 = len.parse().map_err(|_| bad())?;
        let (bits, width) = match addr {
            IpAddr::V4(a) => (u128::from(a.to_bits()) << 96, 32),
            IpAddr::V6(a) => (a.to_bits(), 128),
        };
        if len > width || len.to_string() != s.split_once('/').map_or("", |p| p.1) {
            return Err(bad());
        }
        // The address sits in the top bits: what the prefix leaves is the host's.
        if bits.checked_shl(len).unwrap_or(0) != 0 {
            let keep = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            let network = bits & keep;
            let shown = match addr {
                IpAddr::V4(_) => std::net::Ipv4Addr::from_bits((network >> 96) as u32).to_string(),
                IpAddr::V6(_) => std::net::Ipv6Addr::from_bits(network).to_string(),
            };
            return Err(format!(
                "{s:?} has address bits past its /{len} prefix; the block is {shown}/{len}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_blocks_only() {
        for ok in [
            "10.0.0.0/16",
            "0.0.0.0/0",
            "192.168.1.7/32",
            "fd00::/64",
            "::/0",
        ] {
            assert!(Cidr::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/016",
            "x/8",
            "fd00::/129",
            "",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        let e = Cidr::parse("10.0.1.5/16").unwrap_err();
        assert!(e.contains("the block is 10.0.0.0/16"), "{e}");
        let e = Cidr::parse("fd00::1/64").unwrap_err();
        assert!(e.contains("the block is fd00::/64"), "{e}");
    }
}
