"""HTTP plumbing shared by every route: one JSON error shape (errors.py), security headers
(headers.py), CORS (cors.py) and the offline Swagger UI assets (swagger_assets.py). The
product's own logic lives in the other packages of app/."""
