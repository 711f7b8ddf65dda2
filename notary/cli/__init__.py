"""The notary's commands: ``serve``, ``status``, ``keys``, ``registry``, ``page`` (named in
``lianzheng.cli``, each imported when it runs)."""
