"""Registries spoken to directly: the registry HTTP API (a tag's manifest and digest read back), the
push of an image tarball without a daemon, and the per-run Docker config that holds the logins."""
