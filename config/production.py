"""Production settings: every value that differs per site comes from the environment.

DATABASE_URL (or SQLALCHEMY_DATABASE_URI), BUCKET, COS_CREDENTIALS (JSON), AUTH_ENDPOINT and
SERVICE_ENDPOINT are read from environment variables of the same name by config.load_config.
"""
SQLALCHEMY_DATABASE_URI = ""  # required: set DATABASE_URL
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

STORAGE_BACKEND = "cos"
LOCAL_STORAGE_ROOT = ""

BUCKET = ""
COS_CREDENTIALS: dict = {}
AUTH_ENDPOINT = "https://iam.cloud.ibm.com/identity/token"
SERVICE_ENDPOINT = ""
# Objects larger than this many bytes are uploaded in parts (S3 multipart upload).
MULTIPART_THRESHOLD = 64 * 1024 * 1024

# Where clients reach the API (e.g. https://mbid.example.org): absolute links are built from it,
# never from the request's Host header. Empty: SERVER_NAME if set, else root-relative links.
PUBLIC_BASE_URL = ""
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
SESSION_COOKIE_SECURE = True

# Processing claims: how long a lease lasts unless renewed (seconds, when a worker names no
# length), and how many failures a claim is retried for before it is failed for good.
PROCESSING_LEASE_SECONDS = 300
PROCESSING_MAX_FAILURES = 3
