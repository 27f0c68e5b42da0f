"""Checks the emulator launcher's changes to moto (see moto_server.py), against a
launcher started here: a cancelled TransactWriteItems leaves every item it named as
it was, a committed one writes them all, and a refused one writes nothing; KMS
GetPublicKey names the key by its ARN. It prints
what a cancel costs with 1 and 2,001 items in the table, for the record (not a
verdict: this machine is shared). Run by `make test`.

Run as: python check_moto_server.py
"""

import http.client
import json
import os
import subprocess
import sys
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))


def start():
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "moto_server.py"), "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("moto listening on "):
        proc.kill()
        sys.exit(f"the launcher did not start: {line!r}")
    return proc, "http://" + line.split()[-1]


def table(client, name, keys):
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def cancelled(client, items):
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException:
        return True
    return False


def keeps_connections_alive(endpoint):
    """Several requests on one socket: sized, chunked, an unread body, then a close."""
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=t/20260101/eu-west-2/sqs/aws4_request, SignedHeaders=host, Signature=x"}
    sqs_json = {"Content-Type": "application/x-amz-json-1.0", **auth}

    def ask(body, headers, **kw):
        conn.request("POST", kw.pop("path", "/"), body=body, headers=headers, **kw)
        answer = conn.getresponse()
        return answer, answer.read()

    answer, _ = ask(json.dumps({"QueueName": "kept"}), {**sqs_json, "X-Amz-Target": "AmazonSQS.CreateQueue"})
    assert answer.status == 200 and answer.getheader("Connection") is None, "the first answer closed the connection"
    sock = conn.sock
    chunked = iter([json.dumps({"QueueName": "chunked"}).encode()])
    answer, _ = ask(chunked, {**sqs_json, "X-Amz-Target": "AmazonSQS.CreateQueue"}, encode_chunked=True)
    assert answer.status == 200 and conn.sock is sock, "a chunked request was not answered on the same connection"
    answer, _ = ask(b"x" * 100_000, auth, path="/no-such-route")
    assert conn.sock is sock, "an unread body closed the connection"
    answer, body = ask(json.dumps({}), {**sqs_json, "X-Amz-Target": "AmazonSQS.ListQueues"})
    assert answer.status == 200 and b"chunked" in body, f"the request after an unread body was misread: {answer.status}"
    assert conn.sock is sock, "the connection was not reused"
    answer, _ = ask(json.dumps({}), {**sqs_json, "X-Amz-Target": "AmazonSQS.ListQueues", "Connection": "close"})
    assert answer.getheader("Connection") == "close", "a client's close was not honoured"
    conn.close()


def main():
    proc, endpoint = start()
    try:
        d = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id="t", aws_secret_access_key="t"
        )
        table(d, "events", [("pk", "HASH"), ("sk", "RANGE")])
        table(d, "reports", [("id", "HASH")])
        d.put_item(TableName="reports", Item={"id": {"S": "exists"}, "v": {"S": "old"}})
        bump = {
            "Update": {
                "TableName": "events",
                "Key": {"pk": {"S": "u1"}, "sk": {"S": "e1"}},
                "UpdateExpression": "SET n = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        put_new = {"Put": {"TableName": "reports", "Item": {"id": {"S": "new"}, "v": {"S": "x"}}}}
        overwrite = {"Put": {"TableName": "reports", "Item": {"id": {"S": "exists"}, "v": {"S": "overwritten"}}}}
        refuse = {
            "ConditionCheck": {
                "TableName": "events",
                "Key": {"pk": {"S": "u2"}, "sk": {"S": "absent"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

        def get(name, key):
            return d.get_item(TableName=name, Key=key).get("Item")

        def timed_cancel(rounds):
            started = time.perf_counter()
            for _ in range(rounds):
                assert cancelled(d, [bump, put_new, overwrite, refuse]), "the transaction was not cancelled"
            return (time.perf_counter() - started) / rounds

        d.put_item(TableName="events", Item={"pk": {"S": "u1"}, "sk": {"S": "e1"}, "n": {"N": "0"}})
        small = timed_cancel(10)
        for first in range(0, 2000, 25):
            puts = [
                {"PutRequest": {"Item": {"pk": {"S": f"u{i % 50}"}, "sk": {"S": f"x{i}"}, "n": {"N": "0"}}}}
                for i in range(first, first + 25)
            ]
            d.batch_write_item(RequestItems={"events": puts})
        large = timed_cancel(10)

        assert get("events", {"pk": {"S": "u1"}, "sk": {"S": "e1"}})["n"]["N"] == "0", "the update was not undone"
        assert get("reports", {"id": {"S": "new"}}) is None, "the new item was not removed"
        assert get("reports", {"id": {"S": "exists"}})["v"]["S"] == "old", "the overwrite was not undone"
        assert d.scan(TableName="events", Select="COUNT")["Count"] == 2001, "items lost or added"

        d.transact_write_items(TransactItems=[bump, put_new])
        assert get("events", {"pk": {"S": "u1"}, "sk": {"S": "e1"}})["n"]["N"] == "1", "the committed update is missing"
        assert get("reports", {"id": {"S": "new"}})["v"]["S"] == "x", "the committed put is missing"

        twice = {"Put": {"TableName": "reports", "Item": {"id": {"S": "dup"}, "v": {"S": "1"}}}}
        try:
            d.transact_write_items(TransactItems=[twice, twice])
            raise AssertionError("two operations on one item were accepted")
        except d.exceptions.ClientError:
            pass
        assert get("reports", {"id": {"S": "dup"}}) is None, "a refused transaction wrote"

        kms = boto3.client(
            "kms", endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id="t", aws_secret_access_key="t"
        )
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        kms.create_alias(AliasName="alias/trail", TargetKeyId=key["KeyId"])
        for asked in (key["KeyId"], "alias/trail"):
            answered = kms.get_public_key(KeyId=asked)["KeyId"]
            assert answered == key["Arn"], f"GetPublicKey({asked}) named the key {answered}, not its ARN"

        keeps_connections_alive(endpoint)

        print(f"moto launcher OK: cancelled transaction {small * 1000:.1f} ms (1 item), {large * 1000:.1f} ms (2,001 items)")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
