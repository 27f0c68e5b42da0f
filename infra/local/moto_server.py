"""moto server, started the way the local stack needs it.

1. DynamoDB's item-level atomicity. moto 5.2.5 runs each request on its own
   thread, and its TransactWriteItems snapshots whole tables at the start and
   restores the snapshot when the transaction is cancelled: a cancelled
   transaction (say, a duplicate event's conditional put) silently undoes every
   write other requests made meanwhile. DynamoDB never does that. One lock
   around the DynamoDB backend's operations restores the semantics our steps
   rely on; SQS long polls and every other service stay concurrent.
2. No port race. With `-p 0` the kernel picks a free port while binding, and
   the line `moto listening on HOST:PORT` tells the caller which: tests running
   in parallel never pick the same port between choosing and binding.

3. Bounded memory. moto's BaseModel appends every model instance it ever
   creates to a class-level list (for its dashboard and test resets), and
   TransactWriteItems deep-copies whole tables: each transaction kept a copy of
   every table it touched forever. The chaos suite grew moto by ~6 MB per report
   workflow (1.9 GB at 300). Our tools read only SES's sent mail through the
   dashboard (`/moto-api/data.json`), so DynamoDB's and SQS's models (SQS
   deep-copies a message on every receive) are not tracked here.
4. Transactions that cost what they touch. moto's TransactWriteItems deep-copies
   every table it names before it starts, to restore them if it is cancelled: the
   cost grows with the table (a cancelled duplicate in a 3,000-item table took
   ~0.7 s under the lock, so the chaos suite's 1,000 workflows drained at about
   1.3 redeliveries a second). Here the transaction snapshots only the items it
   names and puts exactly those back when it is cancelled; moto's own table copy
   becomes the live table (its restore is then a no-op). The lock of (1) keeps
   anyone else from seeing the partial writes in between, as DynamoDB would.
5. Fractional visibility timeouts. Under a time scale (tests compress every
   retry wait by one factor) the local stack's proxy divides the visibility
   timeouts functions ask for, so 900 s at a factor of 600 arrives as 1.5.
   moto truncates to whole seconds; here the fraction is kept (millisecond
   precision). AWS's own whole-second requests behave exactly as before.
6. Standard queues in no particular order. moto hands out the oldest visible
   messages first; AWS's standard queues keep no order (a receive samples the
   queue's servers). Under retries that difference is not small: a backlog of
   records coming back every second would starve every newer message for as
   long as it lasts, where on AWS new messages are received beside them. Here a
   standard queue's visible messages come in random order; FIFO queues keep
   theirs.
7. KMS GetPublicKey names the key by its ARN. AWS answers `KeyId` with the
   key's ARN whatever id or alias it was asked with; moto answers with the
   bare key id. Verifiers of the audit trail compare the key that signed each
   record (Sign answers with the ARN, in moto too) with the key they trust.
9. Connections kept alive. werkzeug's development server answers every request
   with `Connection: close` (its request handler cannot drain a body without
   reading into the next request), so every SDK call through the proxy opened a
   new TCP connection and moto a new thread for it. AWS keeps HTTP/1.1
   connections alive. Here the body is read exactly to its length (or its last
   chunk), the answer carries its length, and the connection stays open unless
   the client asks to close it or the application fails mid-answer.
10. A memory census on request. With MOTO_MEMORY_CENSUS=<file>, a daemon thread
   appends the most numerous live object types to <file> every 30 s: how the
   leak above was found, kept for the next one.

Run as: python moto_server.py -H 127.0.0.1 -p 4566   (or -p 0)
"""

import argparse
import copy
import functools
import json
import random
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
import moto.kms.responses as kms_responses
import moto.sqs.models as sqs_models
import moto.sqs.responses as sqs_responses
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import DechunkedInput, make_server
from werkzeug.wsgi import LimitedStream

_LOCK = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


class _NoTableCopies:
    """moto's `copy` module for its DynamoDB backend, except that a Table is not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj, memo=None):
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


dynamodb_models.copy = _NoTableCopies()
_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    """moto's transaction, rolled back item by item instead of table by table."""
    saved = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if "Key" in op:
                key = op["Key"]
            else:
                key = {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a}
            hash_key, range_key = self.get_keys_value(table, key)
        except Exception:  # noqa: BLE001 - moto reports a malformed entry itself
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            if item is not None and range_key is not None:
                table.items[hash_key][range_key] = item
            elif item is not None:
                table.items[hash_key] = item
            elif range_key is not None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items.pop(hash_key, None)
        raise


DynamoDBBackend.transact_write_items = _transact_write_items

for _name, _member in list(vars(DynamoDBBackend).items()):
    if callable(_member) and not _name.startswith("_"):
        setattr(DynamoDBBackend, _name, _serialised(_member))


def _change_visibility(self, visibility_timeout):
    """moto's Message.change_visibility without truncating to whole seconds."""
    self.visible_at = sqs_models.unix_time_millis() + float(visibility_timeout) * 1000


def _validated_visibility_timeout(self, timeout=None):
    """moto parses VisibilityTimeout by the API model (an integer): read a
    fractional one from the JSON body as sent."""
    if timeout is None:
        try:
            raw = json.loads(self.body).get("VisibilityTimeout")
        except (TypeError, ValueError, AttributeError):
            raw = None
        if isinstance(raw, float):
            if raw > sqs_responses.MAXIMUM_VISIBILITY_TIMEOUT:
                raise ValueError
            return raw
    return _moto_validated_visibility_timeout(self, timeout)


sqs_models.Message.change_visibility = _change_visibility
_moto_validated_visibility_timeout = sqs_responses.SQSResponse._get_validated_visibility_timeout
sqs_responses.SQSResponse._get_validated_visibility_timeout = _validated_visibility_timeout

_moto_visible_messages = sqs_models.Queue.messages.fget


def _visible_messages(self):
    """moto's visible messages, shuffled for a standard queue (see 6 above)."""
    visible = _moto_visible_messages(self)
    if not self.fifo_queue:
        random.shuffle(visible)
    return visible


sqs_models.Queue.messages = property(_visible_messages)

_moto_get_public_key = kms_responses.KmsResponse.get_public_key


def _get_public_key(self):
    """moto's GetPublicKey, with KeyId the key's ARN as AWS answers (see 7 above)."""
    answer = json.loads(_moto_get_public_key(self))
    answer["KeyId"] = self.kms_backend.describe_key(self._get_param("KeyId")).arn
    return json.dumps(answer)


kms_responses.KmsResponse.get_public_key = _get_public_key

_UNTRACKED = ("moto.dynamodb.", "moto.sqs.")
_tracked_new = BaseModel.__new__


def _new(cls, *args, **kwargs):
    if cls.__module__.startswith(_UNTRACKED):
        return object.__new__(cls)
    return _tracked_new(cls, *args, **kwargs)


BaseModel.__new__ = staticmethod(_new)


# Headers the server owns: the application's are dropped and the server's sent.
_SERVER_OWNED = {"connection", "content-length", "transfer-encoding", "keep-alive"}


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler with HTTP/1.1 keep-alive (see 9 above)."""

    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm the second waits for
    # the client's delayed ACK (40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True
    # An idle kept-alive connection is dropped after this long (its thread ends).
    timeout = 120

    def run_wsgi(self):
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        body = environ["wsgi.input"]
        if not isinstance(body, DechunkedInput):
            try:
                length = max(int(self.headers.get("Content-Length", "0") or 0), 0)
            except ValueError:
                length = 0
                self.close_connection = True
            body = environ["wsgi.input"] = LimitedStream(self.rfile, length)
        started = []

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception as error:  # noqa: BLE001 - answered as a 500, as werkzeug does
            self.server.log("error", f"Error on request: {error!r}")
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
            chunks = [b"Internal Server Error"]
            self.close_connection = True
        # Whatever the application left unread belongs to this request, not the next.
        try:
            if isinstance(body, LimitedStream):
                body.exhaust()
            else:
                while body.read(65536):
                    pass
        except (OSError, ValueError):
            self.close_connection = True
        status, headers = started
        code_str, _, message = status.partition(" ")
        code = int(code_str)
        data = b"".join(chunks)
        self.send_response(code, message)
        for name, value in headers:
            if name.lower() not in _SERVER_OWNED:
                self.send_header(name, value)
        if self.command == "HEAD":
            declared = next((v for n, v in headers if n.lower() == "content-length"), None)
            if declared is not None:
                self.send_header("Content-Length", declared)
        elif not (100 <= code < 200 or code in (204, 304)):
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.wfile.flush()


def _census(path):
    import collections
    import gc
    import time

    while True:
        time.sleep(30)
        gc.collect()
        counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} objects={sum(counts.values())}\n")
            for name, n in counts.most_common(15):
                out.write(f"{n:>10} {name}\n")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    args = parser.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=KeepAliveHandler)
    # moto builds some URLs from MOTO_PORT: it must be the port actually bound.
    os.environ["MOTO_PORT"] = str(server.server_port)
    census = os.environ.get("MOTO_MEMORY_CENSUS")
    if census:
        threading.Thread(target=_census, args=(census,), daemon=True).start()
    print(f"moto listening on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
