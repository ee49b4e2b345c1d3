"""Find keys and other secrets in a git repository: work tree, staged changes, history.

Defends against a key committed once and left in history: deleting the file
later does not remove the key from the commits that hold it, and anyone with
a clone can read it there. A commit that adds a key is stopped before it is
made (`scan_staged`, run by the pre-commit hook), and a key already in
history is found (`scan_history`, run by CI) so that it can be rotated.

Built on detect-secrets (its detectors and filters), with detectors of our
own in `detectors.py` for formats it lacks: Anthropic `sk-ant-` keys, Google
`AIza` keys, OpenAI project keys, GitHub fine-grained tokens, and this
service's client keys in `API_KEYS` values and `X-API-Key` headers. Needs
`git` on PATH and the `detect-secrets` package.

Findings never carry a secret: the value is masked, and the SHA-1 hash
identifies it in the allowlist. A reviewed false positive is allowlisted
with detect-secrets' inline comment `pragma: allowlist secret` on its line,
or with a line in `.secrets-allowlist` (see `allowlist.py`) when the line
cannot be edited, for example because it sits in an old commit.

Use in another project:

    from app.secrets_scan import scan_history

    for finding in scan_history("/path/to/repository"):
        print(finding.path, finding.commit, finding.line, finding.detector, finding.masked_value)

This package imports nothing else from `app/`; copy the folder as it is.
"""

from .allowlist import ALLOWLIST_FILE, AllowlistError
from .findings import Finding, mask
from .git import GitError
from .scanner import scan_history, scan_staged, scan_working_tree

__all__ = [
    "ALLOWLIST_FILE",
    "AllowlistError",
    "Finding",
    "GitError",
    "mask",
    "scan_history",
    "scan_staged",
    "scan_working_tree",
]
