"""ECR, one registry at a time: ``Ecr`` has the calls of every concern (registry hosts are in
plugin.config.hosts).

    ecr_client.py     the client of one registry, and the one way calls are made
    repositories.py   describe, create, the repository's settings; what ``plan`` shows
    policies.py       the lifecycle and repository policies
    existing_tags.py  the tags that exist, and the skip/push decision
    token.py          the registry login
"""

from __future__ import annotations

from plugin.aws.existing_tags import ExistingTags
from plugin.aws.repositories import Repositories
from plugin.aws.token import Token


class Ecr(Repositories, ExistingTags, Token):
    """One registry (account + region, or ECR Public) reached through one AwsSession."""
