#!/usr/bin/env python3
"""Interop test: a client in another language proves the public contracts.

Run against a running members service and the NATS server it publishes to:

    python tests/interop/interop_test.py --target 127.0.0.1:PORT \
        --nats nats://127.0.0.1:PORT --prefix PREFIX --token JWT --proto-dir proto

It generates Python code from every `.proto` under `--proto-dir` at run time (with
`grpc_tools.protoc`), subscribes to `PREFIX + "fabrique.members.member.applied"` on
JetStream, creates a member over gRPC with a bearer token, then checks the reply,
the CloudEvents headers of the event and its protobuf payload.

Prints `interop ok: members/{id}` and exits 0 on success; prints the reason on
stderr and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

APPLIED_SUBJECT = "fabrique.members.member.applied"
APPLIED_TYPE = "fabrique.members.v1.MemberApplied"
EVENT_SOURCE = "/fabrique/members"
CONTENT_TYPE = "application/protobuf"
PB_PACKAGE = "fabrique.members.v1"


class Failure(Exception):
    """A broken contract: the message says which."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


# --------------------------------------------------------------------------- codegen


def _well_known_types_dir() -> str:
    """The `_proto` folder of grpc_tools: google/protobuf/*.proto (timestamp, field_mask...)."""
    try:
        from importlib import resources

        path = Path(str(resources.files("grpc_tools").joinpath("_proto")))
        if path.is_dir():
            return str(path)
    except Exception:  # noqa: BLE001 - fall back below
        pass
    try:
        import pkg_resources  # type: ignore[import-not-found]

        path = Path(pkg_resources.resource_filename("grpc_tools", "_proto"))
        if path.is_dir():
            return str(path)
    except Exception:  # noqa: BLE001
        pass
    import grpc_tools

    path = Path(grpc_tools.__file__).resolve().parent / "_proto"
    if path.is_dir():
        return str(path)
    raise Failure("cannot find grpc_tools' bundled well-known .proto files (grpc_tools/_proto)")


def generate(proto_dir: str, out_dir: str | None = None) -> str:
    """Runs protoc on every .proto under proto_dir; returns the folder holding the code."""
    from grpc_tools import protoc

    root = Path(proto_dir).resolve()
    check(root.is_dir(), f"--proto-dir {proto_dir!r} is not a directory")
    protos = sorted(str(p) for p in root.rglob("*.proto"))
    check(bool(protos), f"no .proto file under {root}")
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="fabrique-interop-"))
    out.mkdir(parents=True, exist_ok=True)
    argv = [
        "grpc_tools.protoc",
        f"-I{root}",
        f"-I{_well_known_types_dir()}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    code = protoc.main(argv)
    check(code == 0, f"protoc failed with exit code {code} on {len(protos)} file(s) under {root}")
    # Regular packages rather than namespace packages: nothing else named `fabrique`
    # on sys.path can then shadow or merge with the generated code.
    for folder, _dirs, _files in os.walk(out):
        if Path(folder) != out:
            (Path(folder) / "__init__.py").touch(exist_ok=True)
    return str(out)


def load_modules(out_dir: str):
    """Imports members_pb2, members_pb2_grpc and events_pb2 from the generated code."""
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    importlib.invalidate_caches()
    members_pb2 = importlib.import_module(f"{PB_PACKAGE}.members_pb2")
    members_pb2_grpc = importlib.import_module(f"{PB_PACKAGE}.members_pb2_grpc")
    events_pb2 = importlib.import_module(f"{PB_PACKAGE}.events_pb2")
    return members_pb2, members_pb2_grpc, events_pb2


# --------------------------------------------------------------------------- the test


async def _receive_applied(sub, name: str, timeout: float):
    """Fetches from the consumer until the event whose ce-subject is `name` arrives."""
    from nats.errors import TimeoutError as NatsTimeoutError

    deadline = time.monotonic() + timeout
    others: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            seen = f"; other events seen: {others}" if others else "; no event at all"
            raise Failure(
                f"no MemberApplied event with ce-subject {name!r} within {timeout:.0f} s{seen}"
            )
        try:
            msgs = await sub.fetch(1, timeout=max(0.1, min(remaining, 5.0)))
        except (NatsTimeoutError, asyncio.TimeoutError):
            continue
        for msg in msgs:
            headers = {k.lower(): v for k, v in (msg.headers or {}).items()}
            if headers.get("ce-subject") != name:
                # Another member's event under the same prefix: not ours to judge.
                others.append(str(headers.get("ce-subject")))
                await msg.ack()
                continue
            await msg.ack()
            return msg, headers


async def run(args, members_pb2, members_pb2_grpc, events_pb2) -> str:
    import grpc
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from nats.js.errors import NotFoundError

    subject = args.prefix + APPLIED_SUBJECT
    metadata = (("authorization", "Bearer " + args.token),)

    async def _quiet(_err):  # connection errors surface as exceptions below
        return None

    try:
        nc = await asyncio.wait_for(
            nats.connect(
                args.nats,
                connect_timeout=5,
                allow_reconnect=False,
                # Tries of the first connection too: a few, not nats-py's 60.
                max_reconnect_attempts=3,
                reconnect_time_wait=1,
                error_cb=_quiet,
            ),
            timeout=args.timeout,
        )
    except Exception as e:  # noqa: BLE001
        raise Failure(f"cannot connect to NATS at {args.nats}: {e!r}") from e
    sub = None
    js = nc.jetstream(timeout=10)
    try:
        # Subscribe BEFORE creating the member. The stream exists already (the service
        # created it); an ephemeral pull consumer on our subject, deleted at the end.
        try:
            sub = await js.pull_subscribe(
                subject,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.NEW,
                    ack_policy=AckPolicy.EXPLICIT,
                    inactive_threshold=120.0,
                ),
            )
        except NotFoundError as e:
            raise Failure(
                f"no JetStream stream captures {subject!r} (the service creates it): {e!r}"
            ) from e
        except Exception as e:  # noqa: BLE001
            raise Failure(f"cannot subscribe to {subject!r} on JetStream: {e!r}") from e

        display_name = "Interop Python " + uuid.uuid4().hex[:8]
        request = members_pb2.CreateMemberRequest(
            member=members_pb2.Member(
                display_name=display_name,
                kind=members_pb2.MemberKind.Value("MEMBER_KIND_ASSOCIATION"),
            ),
            request_id=str(uuid.uuid4()),
        )
        async with grpc.aio.insecure_channel(args.target) as channel:
            stub = members_pb2_grpc.MembersServiceStub(channel)
            try:
                reply = await stub.CreateMember(request, metadata=metadata, timeout=args.timeout)
            except grpc.aio.AioRpcError as e:
                raise Failure(f"CreateMember failed: {e.code().name}: {e.details()}") from e

        pending = members_pb2.MemberState.Value("MEMBER_STATE_PENDING")
        check(
            reply.state == pending,
            f"CreateMember reply state is {members_pb2.MemberState.Name(reply.state)}, "
            "expected MEMBER_STATE_PENDING",
        )
        check(
            reply.name.startswith("members/"),
            f"CreateMember reply name {reply.name!r} does not start with 'members/'",
        )
        member_id = reply.name[len("members/"):]
        try:
            uuid.UUID(member_id)
        except ValueError as e:
            raise Failure(f"CreateMember reply name {reply.name!r}: id is not a UUID") from e
        check(
            reply.display_name == display_name,
            f"CreateMember reply display_name {reply.display_name!r}, sent {display_name!r}",
        )

        msg, headers = await _receive_applied(sub, reply.name, args.timeout)

        def header(key: str, expected: str) -> None:
            got = headers.get(key.lower())
            check(got == expected, f"event header {key}: got {got!r}, expected {expected!r}")

        header("ce-specversion", "1.0")
        header("ce-type", APPLIED_TYPE)
        header("ce-source", EVENT_SOURCE)
        header("content-type", CONTENT_TYPE)
        header("ce-subject", reply.name)
        ce_id = headers.get("ce-id")
        check(bool(ce_id), f"event header ce-id missing (headers: {headers})")
        header("Nats-Msg-Id", ce_id)
        check(
            msg.subject == subject,
            f"event published on {msg.subject!r}, expected {subject!r}",
        )

        try:
            event = events_pb2.MemberApplied.FromString(msg.data)
        except Exception as e:  # noqa: BLE001
            raise Failure(f"event payload is not a MemberApplied: {e!r}") from e
        check(event.HasField("member"), "MemberApplied.member is not set")
        check(
            event.member.id == member_id,
            f"MemberApplied.member.id {event.member.id!r}, expected {member_id!r}",
        )
        check(
            event.member.display_name == display_name,
            f"MemberApplied.member.display_name {event.member.display_name!r}, "
            f"expected {display_name!r}",
        )
        return reply.name
    finally:
        if sub is not None:
            try:
                info = await sub.consumer_info()
                await js.delete_consumer(info.stream_name, info.name)
            except Exception:  # noqa: BLE001 - ephemeral: it expires anyway
                pass
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001
                pass
        try:
            await nc.close()
        except Exception:  # noqa: BLE001
            pass


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, help="gRPC address, host:port")
    p.add_argument("--nats", required=True, help="NATS URL, nats://host:port")
    p.add_argument("--prefix", default="", help="subject prefix, ending with a dot")
    p.add_argument("--token", required=True, help="bearer JWT")
    p.add_argument("--proto-dir", default="proto", help="root of the .proto files")
    p.add_argument("--timeout", type=float, default=15.0, help="seconds per wait")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="fabrique-interop-") as out_dir:
            generate(args.proto_dir, out_dir)
            modules = load_modules(out_dir)
            name = asyncio.run(
                asyncio.wait_for(run(args, *modules), timeout=4 * args.timeout + 30)
            )
    except Failure as e:
        print(f"interop FAILED: {e}", file=sys.stderr)
        return 1
    except asyncio.TimeoutError:
        print("interop FAILED: the test as a whole timed out", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(f"interop FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"interop ok: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
