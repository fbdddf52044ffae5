# Fixture: RRAS as a BGP speaker over its site-to-site interface to Azure, in the shape of the examples of
# Add-VpnS2SInterface, Add-BgpRouter, Add-BgpPeer and Add-BgpCustomRoute (MicrosoftDocs/windows-powershell-docs
# docset/winserver2022-ps/remoteaccess/*.md) and of Azure's BGP guidance for an on-premises device (MicrosoftDocs/
# azure-docs articles/vpn-gateway/bgp-howto.md and the VPN Gateway FAQ, BGP section): the interface routes only a host
# route to Azure's BGP peer address (10.0.255.30, in the GatewaySubnet), RRAS peers from its LAN address as AS 65010
# with Azure's AS 65515 and advertises its LAN. The seed lab's addresses and key.
Import-Module RemoteAccess
Install-RemoteAccess -VpnType VpnS2S

Add-VpnS2SInterface -Protocol IKEv2 -AuthenticationMethod PSKOnly -NumberOfTries 3 -ResponderAuthenticationMethod PSKOnly -Name 52.172.171.0 -Destination 52.172.171.0 -IPv4Subnet @("10.0.255.30/32:100") -SharedSecret Nodes4LabSharedKey -Persistent

Add-BgpRouter -BgpIdentifier 192.168.29.52 -LocalASN 65010
Add-BgpPeer -Name AzureS2SGw -LocalIPAddress 192.168.29.52 -PeerIPAddress 10.0.255.30 -PeerASN 65515 -OperationMode Mixed -PeeringMode Automatic
Add-BgpCustomRoute -Network 192.168.29.0/24
