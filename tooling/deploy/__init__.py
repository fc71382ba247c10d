"""Deploying a service: config → resource models → plan (data) → executor on a target.

- `desired`: every local check, the packages, and the models the service wants (`prepare`,
  `desired_resources`);
- `models`: one frozen model per kind of resource, each naming what it depends on;
- `providers`: the protocol a target implements per kind (find, owns, diff, create, update,
  delete, describe), and `DeployTarget`; `local_providers` and `aws_providers` implement it;
- `plan`: desired vs found, as a list of changes, with the sweeper's deletions (`plan_deploy`,
  `plan_remove`, `describe_deployment`);
- `executor`: the applying executor (records after each resource) and the display-only one;
- `record`: what was deployed, per target, stage and region;
- `targets`: the deploy target for `--target local|aws`.

See docs/deploy.md.
"""
