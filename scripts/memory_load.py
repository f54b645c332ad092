"""Load for scripts/measure-memory: CONCURRENCY client threads, for SECONDS, against the
four services started as separate processes. Half the calls write (members apply,
places are created: their events then reach the other services' consumers), half read
(a page of 50 from each service's List call). Prints the calls made and failed.

Usage: memory_load.py --members HOST:PORT --registry … --sharing … --projects …
                      --token ADMIN_TOKEN --seconds 30 --concurrency 32
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop"))
from interop_test import generate  # noqa: E402  (the interop test's protoc wrapper)


def main() -> int:
    parser = argparse.ArgumentParser()
    for service in ("members", "registry", "sharing", "projects"):
        parser.add_argument(f"--{service}", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    out = generate(str(Path(__file__).resolve().parent.parent / "proto"))
    sys.path.insert(0, out)
    from fabrique.members.v1 import members_pb2, members_pb2_grpc
    from fabrique.projects.v1 import projects_pb2, projects_pb2_grpc
    from fabrique.registry.v1 import registry_pb2, registry_pb2_grpc
    from fabrique.sharing.v1 import sharing_pb2, sharing_pb2_grpc

    metadata = (("authorization", f"Bearer {args.token}"),)
    members = members_pb2_grpc.MembersServiceStub(grpc.insecure_channel(args.members))
    registry = registry_pb2_grpc.RegistryServiceStub(grpc.insecure_channel(args.registry))
    sharing = sharing_pb2_grpc.SharingServiceStub(grpc.insecure_channel(args.sharing))
    projects = projects_pb2_grpc.ProjectsServiceStub(grpc.insecure_channel(args.projects))

    def apply(i: int) -> None:
        member = members_pb2.Member(
            display_name=f"Association {uuid.uuid4().hex[:12]}",
            kind=members_pb2.MEMBER_KIND_ASSOCIATION,
        )
        members.CreateMember(members_pb2.CreateMemberRequest(member=member), metadata=metadata)

    def place(i: int) -> None:
        p = registry_pb2.Place(
            display_name=f"Tiers-lieu {uuid.uuid4().hex[:12]}",
            kinds=[registry_pb2.PLACE_KIND_TIERS_LIEU],
            location=registry_pb2.Location(
                latitude=45.5 + (i % 100) / 200, longitude=2.8 + (i % 97) / 200
            ),
        )
        registry.CreatePlace(registry_pb2.CreatePlaceRequest(place=p), metadata=metadata)

    calls = [
        apply,
        place,
        lambda i: members.ListMembers(members_pb2.ListMembersRequest(page_size=50), metadata=metadata),
        lambda i: registry.ListPlaces(registry_pb2.ListPlacesRequest(page_size=50), metadata=metadata),
        lambda i: sharing.ListResources(sharing_pb2.ListResourcesRequest(page_size=50), metadata=metadata),
        lambda i: projects.ListProjects(projects_pb2.ListProjectsRequest(page_size=50), metadata=metadata),
    ]
    done = [0]
    failed = [0]
    errors: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def worker(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            try:
                calls[i % len(calls)](i)
                with lock:
                    done[0] += 1
            except grpc.RpcError as e:
                with lock:
                    failed[0] += 1
                    key = f"{e.code().name}: {e.details()}"[:120]
                    errors[key] = errors.get(key, 0) + 1
            i += args.concurrency

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"calls={done[0]} failed={failed[0]} rate={done[0] / args.seconds:.0f}/s")
    for key, count in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {count} x {key}")
    return 0 if failed[0] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
