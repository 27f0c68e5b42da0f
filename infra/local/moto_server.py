"""moto server with DynamoDB's item-level atomicity.

moto 5.2.5 runs each request on its own thread, and its TransactWriteItems
snapshots whole tables at the start and restores the snapshot when the
transaction is cancelled: a cancelled transaction (say, a duplicate event's
conditional put) silently undoes every write other requests made meanwhile.
DynamoDB never does that. Serialising the DynamoDB backend's operations with
one lock restores the semantics our steps rely on; SQS long polls and every
other service stay concurrent.

Run as: python moto_server.py -H 127.0.0.1 -p 4566 (the same flags as moto_server).
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


for _name, _member in list(vars(DynamoDBBackend).items()):
    if callable(_member) and not _name.startswith("_"):
        setattr(DynamoDBBackend, _name, _serialised(_member))

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
