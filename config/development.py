"""Development settings: an embedded SQLite file and a local storage directory under instance/."""
from globals import INSTANCE_DIR

SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'mbid.db'}"
SQLALCHEMY_TRACK_MODIFICATIONS = False

STORAGE_BACKEND = "local"
LOCAL_STORAGE_ROOT = str(INSTANCE_DIR / "storage")

# Object storage (used when STORAGE_BACKEND = "cos"); real values come from the environment.
BUCKET = "mbid-dev"
COS_CREDENTIALS: dict = {}
AUTH_ENDPOINT = "https://iam.cloud.ibm.com/identity/token"
SERVICE_ENDPOINT = ""
# Objects larger than this many bytes are uploaded in parts (S3 multipart upload).
MULTIPART_THRESHOLD = 64 * 1024 * 1024
