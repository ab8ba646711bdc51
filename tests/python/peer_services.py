"""The services the Python aiomas peers offer, written as aiomas's docs show.

They live in their own module so that aiomas's "is not exposed" message names a
stable module: ``"peer_services.Calc.hidden" is not exposed``.
"""
import asyncio

import aiomas


class Deep:
    router = aiomas.rpc.Service()

    @aiomas.expose
    def square(self, x):
        return x * x


class Sub:
    router = aiomas.rpc.Service(["deep"])

    def __init__(self):
        self.deep = Deep()

    @aiomas.expose
    def mul(self, a, b):
        return a * b


class Point:
    """A type of our own, sent with aiomas's ``extra_serializers`` as ``[x, y]``."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


def point_serializer():
    """The ``extra_serializers`` entry for :class:`Point` (typeid 0 when registered first)."""
    return Point, lambda p: [p.x, p.y], lambda v: Point(*v)


def shout(text):
    return text.upper() + "!"


class Calc:
    """The root service of the Python interop server."""

    router = aiomas.rpc.Service(["sub", "tools"])

    def __init__(self):
        self.sub = Sub()
        self.tools = aiomas.rpc.ServiceDict({"shout": aiomas.expose(shout)})
        self.clients = []

    @aiomas.expose
    def add(self, a, b):
        return a + b

    @aiomas.expose
    def defaults(self, a, b=2, c=3, label="default"):
        """Answers with the values its parameters got, defaults included."""
        return [a, b, c, label]

    @aiomas.expose
    def gather(self, a, *args, **kwargs):
        """Answers with its positional surplus and its keyword arguments."""
        return [a, list(args), kwargs]

    @aiomas.expose
    def fail(self, msg):
        raise ValueError(msg)

    @aiomas.expose
    def echo(self, value):
        return value

    @aiomas.expose
    def make_point(self, x, y):
        return Point(x, y)

    @aiomas.expose
    def point_norm1(self, p):
        if not isinstance(p, Point):
            raise TypeError("expected a Point, got " + type(p).__name__)
        return abs(p.x) + abs(p.y)

    @aiomas.expose
    def point_swap(self, p):
        return Point(p.y, p.x)

    @aiomas.expose
    async def sleep_add(self, a, b, ms):
        await asyncio.sleep(ms / 1000)
        return a + b

    @aiomas.expose
    async def call_me_back(self, proxy):
        name = await proxy.get_name()
        return "hello " + name

    @aiomas.expose
    async def hang_up(self):
        # Close every connection while this call is still pending.
        for client in list(self.clients):
            asyncio.ensure_future(client.close())
        await asyncio.sleep(3600)

    def hidden(self):
        return "not reachable over RPC"


class ClientChild:
    router = aiomas.rpc.Service()

    @aiomas.expose
    def get_name(self):
        return "python-child"


class ClientRoot:
    """What the Python client serves, so that the Rust server can call it back."""

    router = aiomas.rpc.Service(["child"])

    def __init__(self):
        self.child = ClientChild()

    @aiomas.expose
    def get_name(self):
        return "python-root"
