"""NCM registrations and node bulks (one NCM per bulk)."""

from __future__ import annotations

from pipeline.export.alcor.accepts import URL_UNSAFE, Counts
from pipeline.export.alcor.fields import _req, resources
from pipeline.params import default

NODES_PER_BULK = default("export.alcor.nodes_per_request")
ACA_SERVER_PORT = default("export.alcor.server_port")  # Alcor control agent's default gRPC port
NCM_URI = default("export.alcor.ncm_uri")  # network_config_manager's default base URL


def _nodes(hosts, cfg: dict, counts: Counts):
    """NCM registrations, node bulks (one NCM per bulk) and the registered node names."""
    per_bulk = int(cfg.get("nodes_per_request", NODES_PER_BULK))
    server_port = int(cfg.get("server_port", ACA_SERVER_PORT))
    default_uri = str(cfg.get("ncm_uri", NCM_URI))
    names: set = set()
    groups: dict = {}
    ncm_uri: dict = {}
    for info in resources(hosts, "hosts"):
        name = info.get("node_name")
        if not name:
            counts.out("host without node_name (R-NODE-NAME)")
            continue
        if URL_UNSAFE.search(name):
            counts.out("host whose node_name has URL-unsafe characters (R-NODE-NAME-URL)")
            continue
        if name in names:
            counts.out("host with a duplicate node_name (R-NODE-NAME)")
            continue
        names.add(name)
        if info.get("server_port") is None:
            info["server_port"] = server_port
            counts.change("host server_port set to export.alcor.server_port")
        ncm = info.get("ncm_id") or None
        uri = info.pop("ncm_uri", None)  # node_manager fills it from the NCM registry
        if uri is not None:
            counts.change("host ncm_uri not sent per host: the NCM registration carries it")
        if ncm is None:
            info.pop("ncm_id", None)  # "" is not read as absent by node_manager (R-NCM-NONE)
        elif ncm not in ncm_uri and str(uri or "").startswith(("http://", "https://")):
            ncm_uri[ncm] = uri
        groups.setdefault(ncm, []).append(info)
    ncms = []
    for ncm in sorted(k for k in groups if k is not None):
        if ncm not in ncm_uri:
            counts.change("NCM without an http(s) ncm_uri registered at export.alcor.ncm_uri")
        ncms.append(_req("ncm", "node_manager", "POST", "/ncms",
                         {"ncm_info": {"id": ncm, "uri": ncm_uri.get(ncm, default_uri)}}))
    bulks = []
    for ncm in sorted(groups, key=lambda k: (k is None, k or "")):
        infos = groups[ncm]
        for i in range(0, len(infos), per_bulk):
            bulks.append(_req("node", "node_manager", "POST", "/nodes/bulk",
                              {"host_infos": infos[i:i + per_bulk]}))
    return ncms, bulks, names
