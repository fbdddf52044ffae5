# Fixture: the shape of the RRAS configuration script Azure's "Download VPN device configuration" renders for
# Windows Server 2012 R2 (Azure/Azure-vpn-config-samples, Microsoft/microsoft-rras-windows-server-2012-r2.ps1.xslt,
# commit 44344f0), as transcribed in the project's fact sheet (azure-rras-ipsec-facts.md section 2.1), with the
# seed lab's addresses and key filled in where the template puts the gateway's address, the VNet prefix and the key.
# Restrictions of the template: IKEv2 only, route-based gateways only, run with administrator rights.

Function Invoke-WindowsApi(
    [string] $dllName,
    [Type] $returnType,
    [string] $methodName,
    [Type[]] $parameterTypes,
    [Object[]] $parameters
    )
{
    # The template defines a P/Invoke helper here to call WritePrivateProfileString.
    $domain = [AppDomain]::CurrentDomain
    return $domain
}

Function Set-PrivateProfileString(
    $file,
    $category,
    $key,
    $value)
{
    Invoke-WindowsApi "kernel32.dll" ([UInt32]) "WritePrivateProfileString" @([String], [String], [String], [String]) @($category, $key, $value, $file)
}

# Install RRAS role
Import-Module ServerManager
Install-WindowsFeature RemoteAccess -IncludeManagementTools
Add-WindowsFeature -name Routing -IncludeManagementTools

# Install S2S VPN
Import-Module RemoteAccess
if ((Get-RemoteAccess).VpnS2SStatus -ne "Installed")
{
  Install-RemoteAccess -VpnType VpnS2S
}

# Add and configure S2S VPN interface
Add-VpnS2SInterface -Protocol IKEv2 -AuthenticationMethod PSKOnly -NumberOfTries 3 -ResponderAuthenticationMethod PSKOnly -Name 52.172.171.0 -Destination 52.172.171.0 -IPv4Subnet @("10.0.0.0/16:100") -SharedSecret Nodes4LabSharedKey

Set-VpnServerIPsecConfiguration -EncryptionType MaximumEncryption

Set-VpnS2Sinterface -Name 52.172.171.0 -InitiateConfigPayload $false -Force

# Set S2S VPN connection to be persistent by editing the router.pbk file (required admin priveleges)
Set-PrivateProfileString $env:windir\System32\ras\router.pbk "52.172.171.0" "IdleDisconnectSeconds" "0"
Set-PrivateProfileString $env:windir\System32\ras\router.pbk "52.172.171.0" "RedialOnLinkFailure" "1"

# Restart the RRAS service
Restart-Service RemoteAccess

# Dial-in to Azure gateway
Connect-VpnS2SInterface -Name 52.172.171.0
