"""Where each Alcor rule comes from: the Alcor file and line of every rule id (`R-...`) and of
the dcnet stream format (`STREAM-...`), as the check report cites it."""

from __future__ import annotations

# Where each rule comes from: alcor @ 21f11b5 (futurewei-cloud/alcor), `path:line`.
EVIDENCE = {
    "R-SVC-NEUTRON": (
        "services/api_gateway/application.properties:15",
        "services/api_gateway/application.properties:25",
        "services/api_gateway/.../filter/KeystoneConfiguration.java:38",
        "services/elastic_ip_manager/.../controller/ElasticIpController.java:67",
    ),
    "R-SEG-ONCE": (
        "services/vpc_manager/.../service/Impl/SegmentServiceImpl.java:473-491",
        "services/vpc_manager/.../dao/VxlanRangeRepository.java:206",
        "services/vpc_manager/.../service/Impl/SegmentServiceImpl.java:150",
    ),
    "R-VPC-SEGID": (
        "services/vpc_manager/.../service/Impl/VpcServiceImpl.java:99-108",
    ),
    "R-SUBNET-VPC": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:132-139",
    ),
    "R-SUBNET-INSIDE": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:332-358",
    ),
    "R-SUBNET-GW-RANGE": (
        "services/subnet_manager/.../utils/SubnetManagementUtil.java:167",
        "services/subnet_manager/.../controller/SubnetController.java:208",
    ),
    "R-IPV6": (
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:238",
        "services/subnet_manager/.../service/implement/SubnetServiceImp.java:246",
        "services/subnet_manager/.../utils/SubnetManagementUtil.java:196-198",
        "services/subnet_manager/.../controller/SubnetController.java:208",
    ),
    "R-GW-PORT": (
        "services/subnet_manager/.../controller/SubnetController.java:177",
        "services/subnet_manager/.../controller/SubnetController.java:251-257",
        "services/subnet_manager/.../config/ConstantsConfig.java:24",
        "services/private_ip_manager/.../entity/IpAddrRange.java:44",
        "services/private_ip_manager/.../entity/IpAddrRange.java:77",
    ),
    "R-RIF-BY-SUBNET": (
        "services/route_manager/.../service/Impl/NeutronRouterToSubnetServiceImpl.java:49",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:146",
        "scripts/busybox-ping-test-alcor-apis/02_two_subnets/03_router_interface:4",
    ),
    "R-RIF-ORDER": (
        "services/subnet_manager/.../controller/SubnetController.java:119-121",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:162",
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:172",
    ),
    "R-RIF-ATTACHED": (
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:180-181",
    ),
    "R-ROUTER-ONE-VPC": (
        "services/route_manager/.../service/Impl/NeutronRouterServiceImpl.java:191-198",
    ),
    "R-ROUTER-ROUTES": (
        "services/route_manager/.../controller/NeutronRouterController.java:425",
    ),
    "R-NCM-FIRST": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:112-127",
        "services/node_manager/.../service/implement/NodeServiceImpl.java:277",
    ),
    "R-NCM-NONE": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:115",
    ),
    "R-NCM-ONE-PER-BULK": (
        "services/node_manager/.../service/implement/NodeServiceImpl.java:108",
        "web/.../restclient/NetworkConfigManagerRestClient.java:89",
    ),
    "R-NODE-NAME": (
        "web/.../restclient/NodeManagerRestClient.java:46",
        "web/.../restclient/NodeManagerRestClient.java:51",
        "services/port_manager/.../request/FetchNodeRequest.java:50",
    ),
    "R-NODE-NAME-URL": (
        "web/.../restclient/AbstractRestClient.java:52-55",
    ),
    "R-NODE-UNBOUND": (
        "services/port_manager/.../processor/NodeProcessor.java:53",
    ),
    "R-SG-DEFAULT-OWNED": (
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:100-104",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:250-259",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:68",
    ),
    "R-SG-DEFAULT-EXPORT": (
        "services/port_manager/.../processor/SecurityGroupProcessor.java:62-68",
        "services/port_manager/.../processor/SecurityGroupProcessor.java:113",
        "services/security_group_manager/.../controller/SecurityGroupController.java:128",
    ),
    "R-SG-AUTO-RULES": (
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:47-64",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:112",
        "services/security_group_manager/.../service/implement/SecurityGroupServiceImpl.java:75",
    ),
    "R-SGR-ORDER": (
        "services/security_group_manager/.../service/implement/SecurityGroupRuleServiceImpl.java:47-56",
    ),
    "R-SGR-MINMAX": (
        "services/security_group_manager/.../utils/RestParameterValidator.java:117",
    ),
    "R-PORT-SG": (
        "services/port_manager/.../request/FetchSecurityGroupRequest.java:47-68",
    ),
    "R-PORT-FIXEDIP": (
        "services/port_manager/.../processor/FixedIpsProcessor.java:452-506",
    ),
    "R-EIP-RANGE-FIRST": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:84-93",
    ),
    "R-EIP-ONE-RANGE": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:87",
        "services/elastic_ip_manager/.../dao/ElasticIpAllocator.java:187",
    ),
    "R-EIP-RANGE-ORDER": (
        "services/elastic_ip_manager/.../utils/ElasticIpControllerUtils.java:68",
    ),
    "R-EIP-PROJECT": (
        "services/elastic_ip_manager/.../utils/ElasticIpControllerUtils.java:100",
        "services/vpc_manager/.../controller/VpcController.java:151",
    ),
    "R-EIP-PORT": (
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:304",
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:323",
        "services/elastic_ip_manager/.../service/implement/ElasticIpServiceImpl.java:340",
    ),
    "R-UNKNOWN-KEYS": (
        "web/.../entity/port/PortEntity.java:92",
    ),
    "R-SUBNET-BULK": (
        "services/subnet_manager/.../controller/SubnetController.java:157-162",
    ),
    "R-VPC-FLAT": (
        "services/vpc_manager/.../service/Impl/VpcServiceImpl.java:136",
        "services/vpc_manager/.../controller/VpcController.java:187",
    ),
    "R-PORT-VIF": (
        "services/port_manager/.../util/RestParameterValidator.java:79",
        "web/.../web/entity/port/VifType.java:19",
    ),
    "R-PHASE-ORDER": (
        "scripts/busybox-ping-test-alcor-apis/02_two_subnets (file-name order: VPC, nodes, "
        "subnets, router, interfaces, groups, ports)",
    ),
    "STREAM-FORMAT": ("dcnet stream format: pipeline/export/alcor/__init__.py module doc",),
    "STREAM-CAPTURE": ("dcnet stream format: pipeline/export/alcor/__init__.py module doc",),
}

# Facts of alcor-rules.md that no stream can violate (Alcor overwrites exported VNIs; unknown
# keys are ignored): kept for their evidence, checked by no function.
INFORMATIONAL = ("R-VPC-SEGID", "R-UNKNOWN-KEYS")
EVIDENCE = {rule: "alcor " + "; ".join(parts) if not rule.startswith("STREAM") else "; ".join(parts)
            for rule, parts in EVIDENCE.items()}
