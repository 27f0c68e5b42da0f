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

Run as: python moto_server.py -H 127.0.0.1 -p 4566   (or -p 0)
"""

import argparse
import functools
import os
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

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


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    args = parser.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    # moto builds some URLs from MOTO_PORT: it must be the port actually bound.
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(f"moto listening on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
