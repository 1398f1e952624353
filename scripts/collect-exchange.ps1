<#
.SYNOPSIS
    Exports what CertStrategy needs to know about an Exchange organisation into one JSON file.

.DESCRIPTION
    Run it in the Exchange Management Shell of Exchange 2010, 2013, 2016, 2019 or Subscription
    Edition (SE). It only reads; it changes nothing. It collects:
      - Get-ExchangeServer: Name, AdminDisplayVersion, Site, ServerRole, Fqdn
      - Get-AcceptedDomain: DomainName, DomainType, Default
      - Get-ClientAccessService (or Get-ClientAccessServer before 2016): AutoDiscoverServiceInternalUri
      - InternalUrl / ExternalUrl of the OWA, ECP, EWS, ActiveSync, OAB and MAPI virtual directories
      - Get-OutlookAnywhere: InternalHostname, ExternalHostname
      - Get-ExchangeCertificate on every server except Edge Transport: Thumbprint, Subject,
        CertificateDomains, Issuer, NotBefore, NotAfter, Services, IsSelfSigned
      - two counts, numbers only: user mailboxes
        (Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox | Measure-Object) and ActiveSync
        device partnerships (Get-MobileDevice -ResultSize Unlimited on 2013 and later, Get-ActiveSyncDevice on
        2010). Counting reads every mailbox object and can take minutes in a large organisation; -SkipCounts
        leaves it out (the profile then needs the number of users typed in).
    No secrets leave the server: no private keys, no certificate files, no passwords, no mailbox data,
    and no user, mailbox or device names (the counts are totals only).

    A cmdlet this Exchange version does not have is listed under "skipped"; a cmdlet that fails is
    listed under "errors" with its message, and the collection goes on. Virtual directories are read
    with -ADPropertiesOnly where the cmdlet offers it (fast: no IIS metabase round trip per server).

    PowerShell 3.0 and later: the file is written with ConvertTo-Json -Depth 6.
    PowerShell 2.0 (Exchange 2010) has no ConvertTo-Json: the script then uses its own small JSON
    writer (ConvertTo-CertStrategyJson, below), which produces the same structure.
    The file is UTF-8 without BOM; dates are ISO 8601 in UTC.

.PARAMETER Path
    Where to write the JSON file. Default: .\certstrategy-export.json

.PARAMETER SkipCounts
    Do not count user mailboxes and ActiveSync devices.

.EXAMPLE
    [PS] C:\Scripts>.\collect-exchange.ps1

.EXAMPLE
    [PS] C:\Scripts>.\collect-exchange.ps1 -Path C:\Temp\contoso-export.json
    Then, where CertStrategy runs:  python -m decision import contoso-export.json -o contoso.yaml

.NOTES
    Needs an account that may run the Get-* cmdlets above (View-Only Organization Management is enough).
    If the script is blocked, run  Unblock-File .\collect-exchange.ps1  (PowerShell 3.0+) or allow it
    with  Set-ExecutionPolicy -Scope Process RemoteSigned  in the same shell.

    Text instead of JSON: CertStrategy also reads the Format-List output of the same cmdlets copied
    from the console into one text file. Keep the prompt lines: "Get-ExchangeCertificate -Server EX01"
    tells it which server the certificates below it are on. Set $FormatEnumerationLimit = -1 first,
    or long lists such as CertificateDomains are cut short ("...}"). For example:
        Get-ExchangeServer | Format-List Name,AdminDisplayVersion,Site,ServerRole,Fqdn
        Get-AcceptedDomain | Format-List DomainName,DomainType,Default
        Get-ClientAccessService | Format-List Name,AutoDiscoverServiceInternalUri
            (Exchange 2010/2013: Get-ClientAccessServer)
        Get-OwaVirtualDirectory -ADPropertiesOnly | Format-List Server,Name,InternalUrl,ExternalUrl
            (the same for the Ecp, WebServices, ActiveSync, Oab and Mapi virtual directories)
        Get-OutlookAnywhere | Format-List Server,Name,InternalHostname,ExternalHostname
        Get-ExchangeCertificate -Server EX01 | Format-List      (once per server)
        Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox | Measure-Object
        Get-MobileDevice -ResultSize Unlimited | Measure-Object
            (Exchange 2010: Get-ActiveSyncDevice)
    A count needs its prompt line too: "Count : 412" alone does not say what was counted. Without
    -ResultSize Unlimited the cmdlets stop at 1000 objects; a count of 1000 is then not used.
#>
[CmdletBinding()]
param(
    [string]$Path = '.\certstrategy-export.json',
    [switch]$SkipCounts
)

Set-StrictMode -Off
$ErrorActionPreference = 'Stop'

$Schema = 'certstrategy-exchange-export/1'
$IsoFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'"
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

function New-List {
    # The comma keeps PowerShell from unrolling an empty list into $null.
    return , (New-Object System.Collections.ArrayList)
}

function Add-Field {
    param($Object, [string]$Name, $Value)
    Add-Member -InputObject $Object -MemberType NoteProperty -Name $Name -Value $Value
}

function ConvertTo-Text {
    param($Value)
    if ($null -eq $Value) { return $null }
    $text = [string]$Value
    if ($text.Length -eq 0) { return $null }
    return $text
}

function ConvertTo-TextList {
    param($Value)
    $list = New-List
    foreach ($item in @($Value)) {
        if ($null -ne $item) { [void]$list.Add([string]$item) }
    }
    return , $list
}

function ConvertTo-IsoDate {
    param($Value)
    if ($null -eq $Value) { return $null }
    try { $date = [DateTime]$Value } catch { return [string]$Value }
    return $date.ToUniversalTime().ToString($IsoFormat, $Invariant)
}

function New-Record {
    # A PSObject with the listed properties of $Source, each as text (or $null), in this order.
    param($Source, [string[]]$Names)
    $record = New-Object PSObject
    foreach ($name in $Names) { Add-Field $record $name (ConvertTo-Text $Source.$name) }
    return $record
}

$Skipped = New-List
$Errors = New-List

function Find-Cmdlet {
    param([string]$Name)
    $command = Get-Command -Name $Name -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) { [void]$Skipped.Add($Name) }
    return $command
}

function Test-Parameter {
    param($Command, [string]$Name)
    try { return [bool]($Command.Parameters -and $Command.Parameters.ContainsKey($Name)) } catch { return $false }
}

function Add-CollectionError {
    param([string]$Command, $ErrorRecord)
    $entry = New-Object PSObject
    Add-Field $entry 'Command' $Command
    Add-Field $entry 'Message' ([string]$ErrorRecord.Exception.Message)
    [void]$Errors.Add($entry)
}

function Invoke-Collection {
    # Runs $Name with $Arguments, turns each result into a record with $Convert, adds $Fields to it
    # and appends it to $Target. A failure is recorded under "errors" as $Label.
    param([string]$Name, [hashtable]$Arguments, [scriptblock]$Convert, $Target, [hashtable]$Fields, [string]$Label)
    $splat = @{ ErrorAction = 'Stop' }
    foreach ($key in $Arguments.Keys) { $splat[$key] = $Arguments[$key] }
    try {
        foreach ($item in @(& $Name @splat)) {
            if ($null -eq $item) { continue }
            $record = & $Convert $item
            foreach ($key in $Fields.Keys) { Add-Field $record $key $Fields[$key] }
            [void]$Target.Add($record)
        }
    } catch {
        Add-CollectionError $Label $_
    }
}

# --- servers --------------------------------------------------------------------------------
$Servers = New-List
$CertificateServers = New-List
if (Find-Cmdlet 'Get-ExchangeServer') {
    Invoke-Collection 'Get-ExchangeServer' @{} {
        param($s) New-Record $s @('Name', 'AdminDisplayVersion', 'Site', 'ServerRole', 'Fqdn')
    } $Servers @{} 'Get-ExchangeServer'
}
foreach ($server in $Servers) {
    if ($server.ServerRole -match 'Edge') {
        [void]$Skipped.Add("Get-ExchangeCertificate -Server $($server.Name) (Edge Transport: not reachable from this shell)")
    } elseif ($server.Name) {
        [void]$CertificateServers.Add($server.Name)
    }
}

# --- accepted domains -----------------------------------------------------------------------
$AcceptedDomains = New-List
if (Find-Cmdlet 'Get-AcceptedDomain') {
    Invoke-Collection 'Get-AcceptedDomain' @{} {
        param($d)
        $record = New-Record $d @('DomainName', 'DomainType')
        Add-Field $record 'Default' ([bool]$d.Default)
        $record
    } $AcceptedDomains @{} 'Get-AcceptedDomain'
}

# --- Autodiscover SCP -----------------------------------------------------------------------
$ClientAccess = New-List
$casCmdlet = 'Get-ClientAccessService'
if (-not (Get-Command -Name $casCmdlet -ErrorAction SilentlyContinue)) { $casCmdlet = 'Get-ClientAccessServer' }
if (Find-Cmdlet $casCmdlet) {
    Invoke-Collection $casCmdlet @{} {
        param($c) New-Record $c @('Name', 'AutoDiscoverServiceInternalUri')
    } $ClientAccess @{} $casCmdlet
}

# --- virtual directories --------------------------------------------------------------------
$VirtualDirectories = New-List
$VdirCmdlets = @{
    owa        = 'Get-OwaVirtualDirectory'
    ecp        = 'Get-EcpVirtualDirectory'
    ews        = 'Get-WebServicesVirtualDirectory'
    activesync = 'Get-ActiveSyncVirtualDirectory'
    oab        = 'Get-OabVirtualDirectory'
    mapi       = 'Get-MapiVirtualDirectory'
}
foreach ($kind in @('owa', 'ecp', 'ews', 'activesync', 'oab', 'mapi')) {
    $name = $VdirCmdlets[$kind]
    $command = Find-Cmdlet $name
    if (-not $command) { continue }
    $arguments = @{}
    if (Test-Parameter $command 'ADPropertiesOnly') { $arguments['ADPropertiesOnly'] = $true }
    Invoke-Collection $name $arguments {
        param($v) New-Record $v @('Server', 'Name', 'InternalUrl', 'ExternalUrl')
    } $VirtualDirectories @{ Kind = $kind } $name
}

# --- Outlook Anywhere -----------------------------------------------------------------------
$OutlookAnywhere = New-List
$command = Find-Cmdlet 'Get-OutlookAnywhere'
if ($command) {
    $arguments = @{}
    if (Test-Parameter $command 'ADPropertiesOnly') { $arguments['ADPropertiesOnly'] = $true }
    Invoke-Collection 'Get-OutlookAnywhere' $arguments {
        # Exchange 2010 has no InternalHostname: it comes out as null.
        param($o) New-Record $o @('Server', 'Name', 'InternalHostname', 'ExternalHostname')
    } $OutlookAnywhere @{} 'Get-OutlookAnywhere'
}

# --- certificates ---------------------------------------------------------------------------
$Certificates = New-List
$ConvertCertificate = {
    param($c)
    $record = New-Record $c @('Thumbprint', 'Subject')
    Add-Field $record 'CertificateDomains' (ConvertTo-TextList $c.CertificateDomains)
    Add-Field $record 'Issuer' (ConvertTo-Text $c.Issuer)
    Add-Field $record 'NotBefore' (ConvertTo-IsoDate $c.NotBefore)
    Add-Field $record 'NotAfter' (ConvertTo-IsoDate $c.NotAfter)
    Add-Field $record 'Services' (ConvertTo-Text $c.Services)
    Add-Field $record 'IsSelfSigned' ([bool]$c.IsSelfSigned)
    $record
}
$command = Find-Cmdlet 'Get-ExchangeCertificate'
if ($command) {
    if (Test-Parameter $command 'Server') {
        foreach ($serverName in $CertificateServers) {
            Invoke-Collection 'Get-ExchangeCertificate' @{ Server = $serverName } $ConvertCertificate `
                $Certificates @{ Server = $serverName } "Get-ExchangeCertificate -Server $serverName"
        }
    } else {
        Invoke-Collection 'Get-ExchangeCertificate' @{} $ConvertCertificate `
            $Certificates @{ Server = $env:COMPUTERNAME } 'Get-ExchangeCertificate'
    }
}

# --- counts: totals only, no names ------------------------------------------------------------
$Counts = New-List

function Add-Count {
    # Counts what $Cmdlet returns with $Arguments (each passed only where the cmdlet has it) and records
    # the total with the command line used. Objects are counted as they stream: none is kept or written.
    param([string]$Name, [string]$Cmdlet, [System.Collections.Specialized.OrderedDictionary]$Arguments)
    $command = Find-Cmdlet $Cmdlet
    if (-not $command) { return }
    $splat = @{ ErrorAction = 'Stop' }
    $shown = New-List
    [void]$shown.Add($Cmdlet)
    foreach ($key in $Arguments.Keys) {
        if (-not (Test-Parameter $command $key)) { continue }
        $splat[$key] = $Arguments[$key]
        if ($Arguments[$key] -is [switch] -or $Arguments[$key] -is [bool]) { [void]$shown.Add("-$key") }
        else { [void]$shown.Add("-$key $($Arguments[$key])") }
    }
    $line = $shown -join ' '
    Write-Host "Counting: $line"
    try {
        $total = (& $Cmdlet @splat | Measure-Object).Count
        $record = New-Object PSObject
        Add-Field $record 'Name' $Name
        Add-Field $record 'Command' $line
        Add-Field $record 'Count' ([int]$total)
        [void]$Counts.Add($record)
    } catch {
        Add-CollectionError $line $_
    }
}

if ($SkipCounts) {
    [void]$Skipped.Add('counts of user mailboxes and mobile devices (-SkipCounts)')
} else {
    # -IgnoreDefaultScope: the whole forest, not only the shell's default recipient scope (multi-domain forests).
    $mailboxArguments = New-Object System.Collections.Specialized.OrderedDictionary
    $mailboxArguments['ResultSize'] = 'Unlimited'
    $mailboxArguments['RecipientTypeDetails'] = 'UserMailbox'
    $mailboxArguments['IgnoreDefaultScope'] = $true
    Add-Count 'user_mailboxes' 'Get-Mailbox' $mailboxArguments

    $deviceArguments = New-Object System.Collections.Specialized.OrderedDictionary
    $deviceArguments['ResultSize'] = 'Unlimited'
    $deviceCmdlet = 'Get-MobileDevice'       # Exchange 2013 and later
    if (-not (Get-Command -Name $deviceCmdlet -ErrorAction SilentlyContinue)) { $deviceCmdlet = 'Get-ActiveSyncDevice' }
    Add-Count 'mobile_devices' $deviceCmdlet $deviceArguments
}

# --- JSON -----------------------------------------------------------------------------------
function ConvertTo-JsonString {
    param([string]$Text)
    $builder = New-Object System.Text.StringBuilder
    [void]$builder.Append('"')
    foreach ($ch in $Text.ToCharArray()) {
        $code = [int]$ch
        if ($code -eq 34) { [void]$builder.Append('\"') }
        elseif ($code -eq 92) { [void]$builder.Append('\\') }
        elseif ($code -lt 32) { [void]$builder.Append(('\u{0:x4}' -f $code)) }
        else { [void]$builder.Append($ch) }
    }
    [void]$builder.Append('"')
    return $builder.ToString()
}

function ConvertTo-CertStrategyJson {
    # Enough JSON for this script's own data (PowerShell 2.0 has no ConvertTo-Json):
    # null, booleans, numbers, strings, lists and PSObjects with note properties.
    param($Value)
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [bool]) { if ($Value) { return 'true' } else { return 'false' } }
    if ($Value -is [int] -or $Value -is [long] -or $Value -is [double] -or $Value -is [decimal]) {
        return ([IFormattable]$Value).ToString($null, $Invariant)
    }
    if ($Value -is [string]) { return ConvertTo-JsonString $Value }
    $parts = New-List
    if ($Value.PSObject.BaseObject -is [System.Management.Automation.PSCustomObject]) {
        foreach ($property in $Value.PSObject.Properties) {
            [void]$parts.Add((ConvertTo-JsonString $property.Name) + ': ' + (ConvertTo-CertStrategyJson $property.Value))
        }
        return '{' + ($parts -join ', ') + '}'
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        foreach ($item in $Value) { [void]$parts.Add((ConvertTo-CertStrategyJson $item)) }
        return '[' + ($parts -join ', ') + ']'
    }
    return ConvertTo-JsonString ([string]$Value)
}

$Collector = New-Object PSObject
Add-Field $Collector 'script' 'collect-exchange.ps1'
Add-Field $Collector 'powershell' ([string]$PSVersionTable.PSVersion)

$Export = New-Object PSObject
Add-Field $Export 'schema' $Schema
Add-Field $Export 'collected_at' ((Get-Date).ToUniversalTime().ToString($IsoFormat, $Invariant))
Add-Field $Export 'collector' $Collector
Add-Field $Export 'servers' $Servers
Add-Field $Export 'accepted_domains' $AcceptedDomains
Add-Field $Export 'client_access' $ClientAccess
Add-Field $Export 'virtual_directories' $VirtualDirectories
Add-Field $Export 'outlook_anywhere' $OutlookAnywhere
Add-Field $Export 'certificates' $Certificates
Add-Field $Export 'counts' $Counts
Add-Field $Export 'skipped' $Skipped
Add-Field $Export 'errors' $Errors

if (Get-Command -Name 'ConvertTo-Json' -ErrorAction SilentlyContinue) {
    $json = ConvertTo-Json -InputObject $Export -Depth 6
} else {
    $json = ConvertTo-CertStrategyJson $Export
}
$fullPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
[System.IO.File]::WriteAllText($fullPath, $json, (New-Object System.Text.UTF8Encoding -ArgumentList $false))

Write-Host ("Wrote {0}: {1} servers, {2} accepted domains, {3} virtual directories, {4} certificates, {5} counts." -f `
        $fullPath, $Servers.Count, $AcceptedDomains.Count, $VirtualDirectories.Count, $Certificates.Count, $Counts.Count)
if ($Skipped.Count -gt 0) { Write-Host ("Skipped: {0}" -f ($Skipped -join '; ')) }
if ($Errors.Count -gt 0) { Write-Warning ("{0} command(s) failed; see 'errors' in the file." -f $Errors.Count) }
