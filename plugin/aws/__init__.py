"""AWS: sessions and credentials with the one retry layer, ECR by concern (repositories, policies,
existing tags, the token), the ECR work of a run as data (``job``) and as calls (``work``), the worker
process that does it, and the CA bundle for HARNESS_CA_PATH. boto3 and botocore are imported only by
``session`` (and ``trust``, for botocore's own bundle): the plugin's process never loads them."""
