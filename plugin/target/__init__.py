"""Where the image goes and what it is called, computed from the settings and the CI context before
any AWS call: the tags (explicit, ``.tags``, auto-tag, tag rules), the registries, repository and
destinations, and the build's source date."""
