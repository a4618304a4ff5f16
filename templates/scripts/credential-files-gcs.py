# Appended to credential-files.py for a GCS key: a Google service account
# key is JSON over many lines.
import json

with open(os.environ["MLK_GCS_KEY_FILE"]) as f:
    key = f.read()
try:
    kind = json.loads(key).get("type")
except (ValueError, AttributeError):
    kind = None
if not kind:
    sys.exit("MLK_GCS_KEY_FILE: the Secret key is not a Google credentials JSON file")
write("GOOGLE_APPLICATION_CREDENTIALS", key)
