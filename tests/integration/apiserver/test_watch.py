"""Watch semantics seen through the kubernetes Python client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from reconcile.apiserver import APIServer, ServerOptions
from tests.raw_http import urlopen


@pytest.fixture
def apiserver_options() -> ServerOptions:
    return ServerOptions(bookmark_interval=0.1)


@pytest.fixture
def core(kubeconfig: Path) -> Any:
    return k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_watch_resumes_from_a_bookmark(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("before"))
    listed = core.list_namespaced_config_map("default")
    watcher = k8s_watch.Watch()
    bookmark_rv = None
    for event in watcher.stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=listed.metadata.resource_version,
        allow_watch_bookmarks=True,
        timeout_seconds=10,
    ):
        if event["type"] == "BOOKMARK":
            bookmark_rv = event["raw_object"]["metadata"]["resourceVersion"]
            watcher.stop()
    assert bookmark_rv is not None, "no bookmark within the watch"

    core.create_namespaced_config_map("default", _configmap("after"))
    seen = []
    watcher = k8s_watch.Watch()
    for event in watcher.stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=bookmark_rv,
        timeout_seconds=10,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        watcher.stop()
    assert seen == [("ADDED", "after")], "resumed after the bookmark, nothing replayed"


def test_watch_from_compacted_version_gets_410(core: Any, apiserver: APIServer) -> None:
    old_rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", _configmap("later"))
    apiserver.compact()
    with pytest.raises(ApiException) as raised:
        for _ in k8s_watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=old_rv,
            timeout_seconds=5,
        ):
            pass
    assert raised.value.status == 410


def test_watch_without_version_starts_with_current_objects(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("existing"))
    watcher = k8s_watch.Watch()
    first = next(
        iter(watcher.stream(core.list_namespaced_config_map, "default", timeout_seconds=5))
    )
    watcher.stop()
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "existing")


def test_send_initial_events_ends_with_annotated_bookmark(apiserver: APIServer) -> None:
    url = (
        f"{apiserver.url}/api/v1/namespaces/default/serviceaccounts?watch=true"
        "&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
        "&timeoutSeconds=1"
    )
    with urlopen(apiserver, url) as response:
        events = [json.loads(line) for line in response]
    assert events[0]["type"] == "ADDED"
    bookmark = next(e for e in events if e["type"] == "BOOKMARK")
    annotations = bookmark["object"]["metadata"]["annotations"]
    assert annotations == {"k8s.io/initial-events-end": "true"}


def test_selector_transitions_become_added_and_deleted(core: Any) -> None:
    core.create_namespaced_config_map("default", _configmap("moving"))
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.patch_namespaced_config_map("moving", "default", {"metadata": {"labels": {"pick": "me"}}})
    core.patch_namespaced_config_map("moving", "default", {"metadata": {"labels": {"pick": None}}})
    watcher = k8s_watch.Watch()
    types = []
    for event in watcher.stream(
        core.list_namespaced_config_map,
        "default",
        label_selector="pick=me",
        resource_version=rv,
        timeout_seconds=5,
    ):
        types.append(event["type"])
        if len(types) == 2:
            watcher.stop()
    assert types == ["ADDED", "DELETED"]


def test_lifting_a_stall_ends_streams_so_none_goes_on_past_dropped_events(
    core: Any, apiserver: APIServer
) -> None:
    listed = core.list_namespaced_config_map("default").metadata.resource_version
    url = (
        f"{apiserver.url}/api/v1/namespaces/default/configmaps?watch=true"
        f"&resourceVersion={listed}&timeoutSeconds=20"
    )
    with urlopen(apiserver, url, timeout=30) as response:  # the watch is open from here
        apiserver.faults.stall_watches(True)
        core.create_namespaced_config_map("default", _configmap("during-stall"))
        apiserver.faults.stall_watches(False)
        core.create_namespaced_config_map("default", _configmap("after-stall"))
        seen = [json.loads(line)["object"]["metadata"]["name"] for line in response]
    assert "after-stall" not in seen, "a stream never goes on past events it dropped"
    resumed = k8s_watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=listed, timeout_seconds=2
    )
    names = [event["object"].metadata.name for event in resumed if event["type"] == "ADDED"]
    assert names == ["during-stall", "after-stall"], "resuming from the last RV misses nothing"
