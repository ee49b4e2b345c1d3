# Semgrep rule tests for secret-in-source. The values are not real keys;
# the pragma keeps the template's own secret scan from listing them.
import os

import httpx

# ruleid: secret-in-source
API_KEY = "k3x9-Lq2v-Wm8z-Rt4p-Hj6n"  # pragma: allowlist secret

# ruleid: secret-in-source
AI_API_KEY: str = "q7Bv2kLm9XzR4tWp8NsYhD"  # pragma: allowlist secret


class Config:
    def __init__(self) -> None:
        # ruleid: secret-in-source
        self.db_password = "tr0ub4dor-and-3-more"  # pragma: allowlist secret


# ruleid: secret-in-source
client = httpx.Client(headers={"x-api-key": "Zq8mW2vN5kR7tY1pL4xB"})  # pragma: allowlist secret

# ruleid: secret-in-source
token = os.environ.get("GITHUB_TOKEN", "Hn4Tq8Wz2Lm6Rv9Kp3Xs")  # pragma: allowlist secret


def connect(user: str, password: str) -> None:
    return None


# ruleid: secret-in-source
connect("app", password="Wv5Nm2Qz8Tk4Lp7Rx1Yh")  # pragma: allowlist secret

# The fix: secrets come from the environment, and source contains names only.
# ok: secret-in-source
API_KEY = os.environ["API_KEY"]
# ok: secret-in-source
API_KEY_HEADER = "X-API-Key"  # pragma: allowlist secret
# ok: secret-in-source
SECRET_PLACEHOLDER = "change-me-before-deploying"  # pragma: allowlist secret
# ok: secret-in-source
api_key = ""
# ok: secret-in-source
token = os.environ.get("GITHUB_TOKEN", "")
# ok: secret-in-source
AI_API_KEY_ENV = "AI_API_KEY_VALUE_FROM_ENV"  # pragma: allowlist secret
# ok: secret-in-source
password_message = "the password is too short"  # pragma: allowlist secret
# ok: secret-in-source
_NOT_TOKEN_AFTER = r"(?![A-Za-z0-9_\-])"
# ok: secret-in-source
secret_type = "Anthropic API Key"  # pragma: allowlist secret
# ok: secret-in-source
SECRET_DOCS = "docs/secret-in-git-history.md"  # pragma: allowlist secret
# ok: secret-in-source
private_key_file = "/etc/service/private.pem"  # pragma: allowlist secret
