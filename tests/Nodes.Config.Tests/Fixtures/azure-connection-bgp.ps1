# Fixture: Azure PowerShell for a site-to-site connection with BGP, in the shape of the examples of
# New-AzLocalNetworkGateway (-Asn, -BgpPeeringAddress) and New-AzVirtualNetworkGatewayConnection (-EnableBgp)
# (Azure/azure-powershell src/Network/Network/help/*.md) and of "Configure BGP for VPN Gateway" (MicrosoftDocs/
# azure-docs articles/vpn-gateway/bgp-howto.md): the local network gateway's address space is the /32 of the
# on-premises BGP address, as the VPN Gateway FAQ advises. The lab's addresses and key.
$RG1 = "TestBGPRG1"
$Location1 = "East US"
New-AzLocalNetworkGateway -Name Site5 -ResourceGroupName $RG1 -Location $Location1 -GatewayIpAddress 203.0.113.10 -AddressPrefix 192.168.29.52/32 -Asn 65010 -BgpPeeringAddress 192.168.29.52
$vnet1gw = Get-AzVirtualNetworkGateway -Name VNet1GW -ResourceGroupName $RG1
$lng5gw = Get-AzLocalNetworkGateway -Name Site5 -ResourceGroupName $RG1
New-AzVirtualNetworkGatewayConnection -Name VNet1toSite5 -ResourceGroupName $RG1 -VirtualNetworkGateway1 $vnet1gw -LocalNetworkGateway2 $lng5gw -Location $Location1 -ConnectionType IPsec -SharedKey 'Nodes4LabSharedKey' -EnableBgp $True
