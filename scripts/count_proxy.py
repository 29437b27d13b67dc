#!/usr/bin/env python3
"""A loopback TCP proxy that counts the bytes sent back to the client (what a client reads
from the server). Prints its port; writes the running total to COUNT_FILE twice a second.

Usage: scripts/count_proxy.py HOST:PORT COUNT_FILE   (standard library only)
"""

import asyncio
import sys

total = 0


async def pipe(reader, writer, count):
    global total
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            if count:
                total += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    host, port = sys.argv[1].rsplit(":", 1)
    out = sys.argv[2]

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(host, int(port))
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, sw, False), pipe(sr, cw, True))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    while True:
        with open(out, "w") as f:
            f.write(str(total))
        await asyncio.sleep(0.5)


asyncio.run(main())
