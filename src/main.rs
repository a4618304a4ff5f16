fn main() {
    std::process::exit(mlk::cli::main());
}
