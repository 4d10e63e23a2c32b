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

# Where clients reach the API: absolute links (download URLs) are built from it, never from the
# request's Host header. `make run` serves here.
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
# Largest request body accepted, in bytes (a larger one is a 413): every JSON body of the API
# is far smaller. Uploads of claim outputs have their own limit, MAX_OUTPUT_UPLOAD_BYTES, and
# are streamed to storage through a temporary file, never held whole in memory.
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
MAX_OUTPUT_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024
# Requests per minute allowed to each API key (per worker process); 0 turns the limit off.
RATE_LIMIT_PER_MINUTE = 0
# A key with the counts-only 'aggregate' scope sees every count from 1 to this minus 1 as
# "<N" (small-cell suppression); 0 is shown as 0.
AGGREGATE_MIN_COUNT = 5

# Origins (e.g. "https://lab.example.org") whose browser pages may call the API (CORS); none
# by default.
CORS_ORIGINS: list = []
# Signs the dashboard's session cookie; set it in the environment (never in the repository).
# Empty: a random key per process, so sign-ins end when the server restarts.
SECRET_KEY = ""
# The dashboard's session cookie only over HTTPS.
SESSION_COOKIE_SECURE = False

# Processing claims: how long a lease lasts unless renewed (seconds, when a worker names no
# length), and how many failures a claim is retried for before it is failed for good.
PROCESSING_LEASE_SECONDS = 300
PROCESSING_MAX_FAILURES = 3
