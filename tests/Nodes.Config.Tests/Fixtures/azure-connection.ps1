# Fixture: Azure PowerShell for a site-to-site connection with a custom IPsec/IKE policy, in the shape of the
# examples of New-AzLocalNetworkGateway, New-AzIpsecPolicy and New-AzVirtualNetworkGatewayConnection
# (Azure/azure-powershell src/Network/Network/help/*.md) and of "Configure custom IPsec/IKE connection policies"
# (MicrosoftDocs/azure-docs articles/vpn-gateway/ipsec-ike-policy-howto-powershell): the policy of the New-AzIpsecPolicy
# example (IKE AES256/SHA256/DHGroup14, IPsec GCMAES256 with PFS2048), the lab's addresses and key.
$RG1         = "TestPolicyRG1"
$Location1   = "East US 2"
$GWName1     = "VNet1GW"
$LNGName6    = "Site6"
$LNGPrefix61 = "192.168.29.0/24"
$LNGIP6      = "203.0.113.10"
$Connection16 = "VNet1toSite6"

New-AzLocalNetworkGateway -Name $LNGName6 -ResourceGroupName $RG1 -Location $Location1 -GatewayIpAddress $LNGIP6 -AddressPrefix $LNGPrefix61

$ipsecpolicy6 = New-AzIpsecPolicy -IkeEncryption AES256 -IkeIntegrity SHA256 -DhGroup DHGroup14 `
    -IpsecEncryption GCMAES256 -IpsecIntegrity GCMAES256 -PfsGroup PFS2048 -SALifeTimeSeconds 14400 -SADataSizeKilobytes 102400000

$vnet1gw = Get-AzVirtualNetworkGateway -Name $GWName1 -ResourceGroupName $RG1
$lng6 = Get-AzLocalNetworkGateway -Name $LNGName6 -ResourceGroupName $RG1

New-AzVirtualNetworkGatewayConnection -Name $Connection16 -ResourceGroupName $RG1 -VirtualNetworkGateway1 $vnet1gw `
    -LocalNetworkGateway2 $lng6 -Location $Location1 -ConnectionType IPsec -IpsecPolicies $ipsecpolicy6 -SharedKey 'AzureA1b2C3'
