"""Prints the execution-role policies aws-sam-translator gives each function of a template.

The local stack expands SAM's roles itself (infra/local/src/iam/principals.rs);
infra/local/tests/sam_expansion.rs compares that expansion with this one, so the
policies enforced locally are the ones SAM deploys.

Output (JSON): {FunctionLogicalId: {"managed": [policy names], "inline": {PolicyName: statement count}}}
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class KnownManagedPolicies:
    """SAM looks managed policies up by name in IAM; offline, name the two it attaches to functions."""

    def load(self):
        return {
            name: f"arn:aws:iam::aws:policy/service-role/{name}"
            for name in ("AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole")
        }


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    with open(path, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())
    # SAM insists on an S3 CodeUri when it does not build; the code's location does not touch the roles.
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://bucket/key"
    out = transform(template, {}, KnownManagedPolicies())
    roles = {}
    for logical_id, resource in out["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"].get("Role", {}).get("Fn::GetAtt", [None])[0]
        props = out["Resources"].get(role, {}).get("Properties", {})
        roles[logical_id] = {
            "managed": sorted(arn.rsplit("/", 1)[-1] for arn in props.get("ManagedPolicyArns", [])),
            "inline": {p["PolicyName"]: len(p["PolicyDocument"]["Statement"]) for p in props.get("Policies", [])},
        }
    json.dump(roles, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
