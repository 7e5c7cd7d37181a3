"""The export parameters Merak reads (`export.merak_*`), checked against what merak-topo can
build."""

from __future__ import annotations

import ipaddress
import math
from collections import Counter

from pipeline.export.merak.common import _ipv4_net
from pipeline.params import default

# merak-topo picks images by "ACA"/"OVS" in the name and deploys `registry` as the container
# image (merak-topo handler.go:41-44); the default is the images of Merak's own end-to-end test.
DEFAULT_IMAGES = default("export.merak_images")
DEFAULT_DATA_PLANE_CIDR = "10.200.0.0/16"  # the value in Merak's own examples


def _param_error(msg: str):
    from pipeline.errors import InputError

    return InputError(f"params export.{msg}")


def images_param(params: dict) -> list[dict]:
    images = params.get("merak_images") or DEFAULT_IMAGES
    if not isinstance(images, list) or not all(isinstance(i, dict) for i in images):
        raise _param_error("merak_images must be a list of {name, registry} mappings")
    names = [str(i.get("name") or "") for i in images]

    def usable(i):
        reg = str(images[i].get("registry") or "")
        return bool(reg) and not any(ch.isspace() for ch in reg)

    if not any("ACA" in n and usable(i) for i, n in enumerate(names)) or \
            not any("OVS" in n and "ACA" not in n and usable(i) for i, n in enumerate(names)):
        raise _param_error("merak_images needs one image whose name contains \"ACA\" and one whose "
                           "name contains \"OVS\", each with a full image reference in `registry` "
                           "(merak-topo deploys `registry` as the container image)")
    return [{"name": str(i.get("name")), "registry": str(i.get("registry")),
             "cmd": list(i.get("cmd") or []), "args": list(i.get("args") or [])} for i in images]


def data_plane_cidr(params: dict, host_ips: list) -> str:
    """params export.merak_data_plane_cidr, else the /16 holding most hosts' underlay IPv4
    addresses (merak-topo numbers vhosts a.b.<i>.<j>/16 from the first two octets)."""
    given = params.get("merak_data_plane_cidr")
    if given:
        net = _ipv4_net(given)
        if net is None or str(given).rsplit("/", 1)[1] in ("8", "24"):
            raise _param_error(f"merak_data_plane_cidr {given!r}: need an IPv4 CIDR a.b.c.d/n, n not "
                               f"8 or 24 (merak-topo gives every vhost the CIDR itself for /8 and /24)")
        return str(given)
    counts = Counter()
    for ip in host_ips:
        try:
            addr = ipaddress.ip_address(str(ip).split("/")[0])
        except ValueError:
            continue
        if addr.version == 4:
            counts[str(ipaddress.ip_network(f"{addr}/16", strict=False))] += 1
    if not counts:
        return DEFAULT_DATA_PLANE_CIDR
    return max(sorted(counts), key=counts.__getitem__)


def vswitch_layers_end(racks: int, ports: int) -> bool:
    """merak-topo builds vswitch layers until one has at most `ports` switches, but recomputes
    the upper layer from the same lower one, so it ends only if two layers suffice
    (merak-topo topo_gen.go:391-402)."""
    return ports >= 1 and math.ceil(math.ceil(racks / ports) / ports) <= ports
