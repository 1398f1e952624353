"""Exchange Management Shell commands and DNS records that put an option in place, per Exchange version.

Four syntax eras (data/parameters.yaml `exchange_versions.*.era`):
  2007  New-ExchangeCertificate -Path / Import-ExchangeCertificate -Path (the 2007 article)
  2010  request text saved with Set-Content; Import-ExchangeCertificate -FileData (Get-Content -Encoding Byte)
  2013  -RequestFile / -FileName with UNC paths
  2016  2016, 2019 and SE after the 2022 H1 CUs: no -RequestFile / -FileName; WriteAllBytes and -FileData
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from decision.catalog import CA, Catalog, public_lifetime
from decision.dates import from_day
from decision.explain import and_list
from decision.names import publicly_registrable
from decision.parameters import LEGACY_ERAS, Parameters
from decision.slugs import slug

THUMBPRINT = "<thumbprint shown by Import-ExchangeCertificate>"
# the ACME client's certificate: the Exchange import script prints its thumbprint ("NewCertThumbprint: ...") at each run,
# the first one and every renewal's (simple-acme's log keeps it)
ACME_THUMBPRINT = "<NewCertThumbprint printed by the import script>"
PARTNER_IPS = "<the partner's (or Exchange Online's) sending IP addresses>"
PARTNER_ONLY_IPS = "<the partner's sending IP addresses>"  # Exchange 2007: hybrid mail comes through a newer server
PUBLIC_IP = "<public IP>"
INTERNAL_IP = "<internal IP of the server>"
INTERNAL_IP_OF_A_SERVER = "<internal IP of a server (or the load balancer)>"  # where there are several client access servers
COUNTRY = "<two-letter country code>"
REQUEST_DIR = r"C:\certreq"


def _slug(text: str) -> str:
    """A request / certificate file-name part (`slugs.slug`, ASCII only: the file names go into paths and PowerShell
    single-quoted strings on servers whose console may not take other scripts); at most 40 characters."""
    return slug(text, ascii_only=True, limit=40, fallback="exchange")


_PS_SINGLE_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")  # PowerShell ends a '...' string at any of these


def _quote(text: str) -> str:
    """A PowerShell single-quoted string (a doubled quote is a literal one); nothing inside is interpreted.

    PowerShell also takes the typographic quotes ‘ ’ ‚ ‛ as single quotes, so those are doubled too.
    """
    return "'" + _PS_SINGLE_QUOTES.sub(lambda m: m.group(0) * 2, text) + "'"


# a distinguished name's special characters (RFC 4514 §2.4; RFC 2253 adds '='): each separates, quotes or escapes
# parts of the name for Windows too, so they are dropped from the organisation, as is a '#' at its start (a hex value
# follows it) and spaces at either end (escaped in a DN)
_DN_SPECIAL = re.compile(r'[",;=+<>\\]')


class Shell:
    """Builds the certificate commands of one Exchange version for one profile."""

    def __init__(self, profile: Mapping[str, Any], params: Parameters, key_bits: int):
        self.p = profile
        self.params = params
        self.version = str(profile["exchange_version"])
        self.facts = params.exchange_versions[self.version]
        self.era = str(self.facts["era"])
        self.sni = bool(self.facts["sni"])
        servers = [s.upper() for s in str(profile["servers"]).split(";") if s]
        self.named_servers = bool(servers)
        self.servers = servers or ["$env:COMPUTERNAME"]
        self.key_bits = key_bits
        self.org = str(profile["org"])
        self.country = str(profile.get("country") or "").upper() or COUNTRY
        self.cas_cmdlet = f"Set-{self.facts['client_access_cmdlet']}"
        self.pfx_password_asked = False  # the first copy to other servers asks for the PFX password; later ones reuse it
        self.folders_made: set[str] = set()  # request / export folders already created by an earlier line

    def subject(self, common_name: str) -> str:
        """The request's subject: the profile's country, or a placeholder to fill in (Microsoft: without C= the
        certificate may not renew; domain-facts.md §2.4), never a guessed one."""
        org = " ".join(_DN_SPECIAL.sub("", self.org).split()).lstrip("#").strip(" ")  # no double space where one went
        return _quote(f"C={self.country}, {f'O={org}, ' if org else ''}CN={common_name}")

    def request_base(self, label: str) -> str:
        """Path (without extension) of a request and its certificate, the same in every line that names it.

        Exchange 2013's -RequestFile and -FileName are read and written by the server, so a UNC path to the first
        server (a local one when no server is named: the shell runs on it, and '$env:COMPUTERNAME' in a quoted path
        is not expanded); the other eras' files are written and read by the shell itself (2016+: [IO.File] bytes
        passed in -FileData), so a local path."""
        if self.era == "2013" and self.named_servers:
            return f"\\\\{self.servers[0]}\\c$\\certreq\\{_slug(self.org)}-{label}"
        return f"{REQUEST_DIR}\\{_slug(self.org)}-{label}"

    def make_folder(self, path: str) -> list[str]:
        """Create the folder of `path` before the first line that writes there (New-ExchangeCertificate, Set-Content,
        WriteAllBytes and Export-ExchangeCertificate fail on a missing folder of a clean server); once per folder."""
        folder = path.rpartition("\\")[0]
        if folder in self.folders_made:
            return []
        self.folders_made.add(folder)
        return [f"New-Item -ItemType Directory -Force {_quote(folder)} | Out-Null"]

    def renewal_session(self, key_bits: int) -> None:
        """A renewal runs months later in a shell of its own: the PFX password is asked and folders made again, and
        its requests use the key size the renewals need."""
        self.key_bits = key_bits
        self.pfx_password_asked = False
        self.folders_made = set()

    def request(self, names: list[str], label: str, old: str | None = None, certreq: bool = False) -> list[str]:
        """Create the request, import the issued certificate (era-specific syntax); with `certreq`, the request is
        submitted to the internal CA's WebServer template before the import. `old`: the thumbprint of the
        certificate a renewal replaces, piped into New-ExchangeCertificate, which then makes the request to renew it
        (every era: "Get-ExchangeCertificate -Thumbprint ... | New-ExchangeCertificate -GenerateRequest", Exchange
        2010's ee861120(v=exchg.141), 2007's aa998327(v=exchg.80); 2013 on: the cmdlet's page, "create certificate
        requests ... for new certificates and certificate renewals"); the parameters given keep the request the same
        as the first one, with the renewal's key size."""
        base = self.request_base(f"{label}-renewal" if old else label)
        lines = self._request(base, names, label, old)
        if certreq:
            lines.insert(-1, f'certreq -submit -attrib "CertificateTemplate:WebServer" {base}.req {base}.cer')
        return self.make_folder(base) + lines

    def _request(self, base: str, names: list[str], label: str, old: str | None = None) -> list[str]:
        """From Exchange 2010 on, the request is made on the first server (-Server), where the certificate is imported,
        enabled and exported: made on the server the shell runs on, it would keep its private key there and the import
        on the first server would fail. New-ExchangeCertificate, Import-, Enable- and Export-ExchangeCertificate all
        take -Server from Exchange 2010 on (their pages in exchange/exchange-ps/exchange of
        MicrosoftDocs/office-docs-powershell); Exchange 2007's have none and run on the shell's server."""
        common = (f"-SubjectName {self.subject(names[0])} -DomainName {', '.join(names)} "
                  f"-FriendlyName {_quote(f'{self.org} {label}')} -KeySize {self.key_bits} -PrivateKeyExportable $true")
        server = self.servers[0]
        on = "" if self.era == "2007" else f"-Server {server} "
        new = "New-ExchangeCertificate" if old is None else \
            f"Get-ExchangeCertificate {on}-Thumbprint {old} | New-ExchangeCertificate"
        if self.era == "2007":
            return [f"{new} -GenerateRequest -Path {base}.req {common}",
                    f"# send {base}.req to the CA; save the issued certificate as {base}.cer",
                    f"Import-ExchangeCertificate -Path {base}.cer"]
        if self.era == "2010":
            return [f"$req = {new} -Server {server} -GenerateRequest {common}",
                    f"Set-Content -Path {base}.req -Value $req",
                    f"# send {base}.req to the CA; save the issued certificate as {base}.cer",
                    f"Import-ExchangeCertificate -Server {server} -FileData "
                    f"([Byte[]]$(Get-Content -Path {base}.cer -Encoding Byte -ReadCount 0))"]
        if self.era == "2013":
            return [f"{new} -Server {server} -GenerateRequest -RequestFile {_quote(base + '.req')} {common}",
                    f"# send {base}.req to the CA; save the issued certificate as {base}.cer",
                    f"Import-ExchangeCertificate -Server {server} -FileName {_quote(base + '.cer')}"]
        return [f"$txt = {new} -Server {server} -GenerateRequest {common}",
                f"[System.IO.File]::WriteAllBytes({_quote(base + '.req')}, [System.Text.Encoding]::Unicode.GetBytes($txt))",
                f"# send {base}.req to the CA; save the issued certificate as {base}.cer",
                f"Import-ExchangeCertificate -Server {server} -FileData "
                f"([System.IO.File]::ReadAllBytes({_quote(base + '.cer')}))"]

    def enable(self, services: list[str] | None = None, thumbprint: str = THUMBPRINT) -> list[str]:
        services = [s for s in (services or self.facts["enable"]) if s in self.facts["services"]]
        server = "" if self.era == "2007" else f"-Server {self.servers[0]} "  # see _request
        return [f"Enable-ExchangeCertificate {server}-Thumbprint {thumbprint} -Services {self.services(services)}"]

    def remove(self, thumbprints: list[str]) -> list[str]:
        """Remove replaced certificates from every server (Exchange 2007's Remove-ExchangeCertificate has no -Server,
        as its other certificate cmdlets: see _request)."""
        if self.era == "2007":
            lines = [f"Remove-ExchangeCertificate -Thumbprint {t} -Confirm:$false" for t in thumbprints]
            return lines + [line for server in self.servers[1:]
                            for line in [f"# in the Exchange Management Shell on {server}:", *lines]]
        return [f"Remove-ExchangeCertificate -Server {s} -Thumbprint {t} -Confirm:$false"
                for t in thumbprints for s in self.servers]

    def services(self, services: list[str]) -> str:
        """The -Services list, with -Force where SMTP's replace-the-default-certificate prompt would stop a script
        (Exchange 2010 and later; 2007's cmdlet has no -Force)."""
        force = " -Force" if "SMTP" in services and self.era != "2007" else ""
        return ", ".join(services) + force

    def pfx_password(self) -> str:
        """Ask for the PFX password. Exchange 2007 and 2010 shells may run Windows PowerShell 1.0 or 2.0, whose
        Get-Credential takes only [-Credential] <user name> (2.0: https://learn.microsoft.com/en-us/previous-versions/dd315327(v=technet.10));
        -UserName and -Message came with 3.0."""
        if self.era in LEGACY_ERAS:
            return "(Get-Credential pfx).Password"
        return "(Get-Credential -UserName pfx -Message 'PFX password').Password"

    def copy_to_other_servers(self, label: str, services: list[str] | None = None,
                              thumbprint: str = THUMBPRINT) -> list[str]:
        """Export with the private key, import on every other client access server and enable it for `services`.

        `services` defaults to the version's usual services; an empty list imports without enabling. From Exchange 2010
        on, Import-ExchangeCertificate takes -Server and -FileData (2010 SP2/SP3 reference, bb124424(v=exchg.141), read
        at http://unifiedpeople.ru/exch2010help.en/html/c1a98e97-e58a-49c8-a44d-948b2fc07876.htm), so the first server's
        shell imports on the others; the export names the first server (-Server), where the certificate was imported,
        as the request, import and enable lines do (see _request).
        """
        if len(self.servers) < 2:
            return []
        services = [s for s in (self.facts["enable"] if services is None else services) if s in self.facts["services"]]
        pfx = f"\\\\{self.servers[0]}\\c$\\certreq\\{_slug(self.org)}-{label}.pfx"
        lines = self.make_folder(pfx)
        if not self.pfx_password_asked:
            lines.append(f"$pw = {self.pfx_password()}")
        self.pfx_password_asked = True
        if self.era == "2007":
            lines.append(f"Export-ExchangeCertificate -Thumbprint {thumbprint} -BinaryEncoded -Password $pw "
                         f"-Path {_quote(pfx)}")
        else:
            lines.append(f"$bin = Export-ExchangeCertificate -Server {self.servers[0]} -Thumbprint {thumbprint} "
                         f"-BinaryEncoded -Password $pw; [System.IO.File]::WriteAllBytes({_quote(pfx)}, $bin.FileData)")
        if self.era == "2007":
            return lines + self._import_2007(pfx, services, thumbprint)
        for server in self.servers[1:]:
            lines.append(f"Import-ExchangeCertificate -Server {server} -FileData "
                         f"([System.IO.File]::ReadAllBytes({_quote(pfx)})) -Password $pw")
            if services:
                lines.append(f"Enable-ExchangeCertificate -Server {server} -Thumbprint {thumbprint} "
                             f"-Services {self.services(services)}")
        return lines

    def _import_2007(self, pfx: str, services: list[str], thumbprint: str) -> list[str]:
        """Exchange 2007's certificate cmdlets work on the server the shell runs on: Import-ExchangeCertificate has -Path
        and no -Server or -FileData, and imports "to the certificate store on the local computer"
        (https://learn.microsoft.com/en-us/previous-versions/office/exchange-server-2007/bb124424(v=exchg.80)). So each
        other server imports the PFX from the first one's share in a shell of its own, which asks for the password."""
        lines = []
        for server in self.servers[1:]:
            lines += [f"# in the Exchange Management Shell on {server} (Exchange 2007's Import-ExchangeCertificate has "
                      "no -Server):",
                      f"Import-ExchangeCertificate -Path {_quote(pfx)} -Password {self.pfx_password()}"]
            if services:
                lines.append(f"Enable-ExchangeCertificate -Thumbprint {thumbprint} -Services {self.services(services)}")
        return [*lines, f"# back in the Exchange Management Shell on {self.servers[0]}:"]

    def bind(self, hosts: list[str], certificate: str, thumbprint: str | None, ip: str | None,
             renew: bool = False) -> list[str]:
        """Serve a further certificate for `hosts` from the Default Web Site, whose own binding keeps the IIS certificate.

        IIS holds one certificate per binding and Enable-ExchangeCertificate -Services IIS would replace the site's
        certificate, so each further certificate gets host-name bindings with SNI (`ip` None: IIS 8+), or a binding on
        its own IP without SNI (IIS 6, with Exchange 2007: its own web site). With `thumbprint` None the bindings are
        left for an ACME client to fill in. `renew`: the bindings exist; a renewed certificate replaces theirs.
        """
        if self.era == "2007":
            return self.iis6_site(and_list(hosts), f"Autodiscover-{_slug(certificate)}", ip, certificate, renew)
        lines = ["Import-Module WebAdministration"]
        if len(self.servers) > 1:
            lines.insert(0, f"# IIS bindings are per server: run these lines on each of {', '.join(self.servers)}")
        for host in hosts:
            where = f"-HostHeader {host} -SslFlags 1" if ip is None else f"-IPAddress {ip} -HostHeader {host}"
            if not renew:
                lines.append(f"New-WebBinding -Name 'Default Web Site' -Protocol https -Port 443 {where}")
            if thumbprint is not None:
                lines.append(self.bind_certificate(f"(Get-WebBinding -Name 'Default Web Site' -Protocol https "
                                                   f"-HostHeader {host})", thumbprint, renew))
        return lines

    @staticmethod
    def bind_certificate(binding: str, thumbprint: str, renew: bool) -> str:
        """Give an IIS binding its certificate; a renewal first removes the one it has (AddSslCertificate adds an
        http.sys certificate binding, which fails where one exists)."""
        if renew:
            return f"$b = {binding}; $b.RemoveSslCertificate(); $b.AddSslCertificate({_quote(thumbprint)}, 'My')"
        return f"{binding}.AddSslCertificate({_quote(thumbprint)}, 'My')"

    def autodiscover_site(self, host: str, site: str, ip: str, thumbprint: str, renew: bool) -> list[str]:
        """The split-site option's web site of its own for `host` (with SNI by host name, else on its own `ip`), or, on
        a renewal, its certificate replaced."""
        if self.era == "2007":
            return self.iis6_site(host, site, ip, host, renew)
        lines = self.site_per_server_note(host, site, None if self.sni else ip)
        binding = (f"-HostHeader {host} -SslFlags 1" if self.sni else f"-IPAddress {ip}")
        lines.append("Import-Module WebAdministration" if renew else
                     f"Import-Module WebAdministration; New-Website -Name {site} -PhysicalPath C:\\inetpub\\wwwroot "
                     f"-Port 443 -Ssl {binding}")
        lines.append(self.bind_certificate(f"(Get-WebBinding -Name {site} -Protocol https)", thumbprint, renew))
        return lines if renew else [*lines, self.autodiscover_directory(site)]

    def site_per_server_note(self, hosts: str, site: str, ip: str | None) -> list[str]:
        """With several client access servers the load balancer or DNS sends `hosts` to any of them: the web site that
        serves them, its binding and its virtual directory are made on each server (without SNI, `ip` leads to each
        server's own address), or the requests that reach another one get its Default Web Site's certificate."""
        if len(self.servers) < 2:
            return []
        own_ip = "" if ip is None else f", on that server's address that {ip} leads to"
        return [f"# every client access server answers {hosts}: the {site} web site, its binding and virtual directory "
                f"are per server, so run the next lines on each of {', '.join(self.servers)}{own_ip}"]

    def iis6_site(self, hosts: str, site: str, ip: str | None, certificate: str, renew: bool) -> list[str]:
        """Exchange 2007's IIS 6 has no WebAdministration module (nor SNI): the web site of its own that serves `hosts`
        on its own `ip` is made in IIS Manager, with its Autodiscover virtual directory; a renewal replaces its
        certificate."""
        lines = self.site_per_server_note(hosts, site, ip)
        if renew:
            return [*lines, f"# IIS Manager: web site '{site}', Directory Security: replace its certificate with the "
                            f"renewed {certificate} certificate"]
        return [*lines, f"# IIS Manager: new web site '{site}', its own IP ({ip}), port 443, path C:\\inetpub\\wwwroot; "
                        f"Directory Security: bind the {certificate} certificate", self.autodiscover_directory(site)]

    @staticmethod
    def autodiscover_directory(site: str) -> str:
        return f"New-AutodiscoverVirtualDirectory -WebSiteName {site} -BasicAuthentication $true -WindowsAuthentication $true"

    def outlook_anywhere_principal(self, subject: str, host: str) -> list[str]:
        """Have Autodiscover give Outlook Anywhere clients the certificate's `subject` as its principal name, on the
        versions data/parameters.yaml `wildcard_cert_principal_versions` lists: the default, msstd:<`host`>, does not
        match a *.<domain> subject for clients that compare it with the subject alone (Windows XP, Vista before SP1)."""
        if self.version not in {str(v) for v in self.params.value("wildcard_cert_principal_versions")}:
            return []
        prefix = self.params.value("cert_principal_prefix")
        return [f"# Outlook Anywhere clients on Windows XP or Vista before SP1 compare the certificate's subject ({subject}) "
                f"with the principal Autodiscover sends, {prefix}{host} by default, and keep asking for a password: "
                f"send {prefix}{subject}",
                f"Set-OutlookProvider -Identity EXPR -CertPrincipalName {prefix}{subject}"]

    def receive_connector(self, server: str) -> str:
        """The default receive connector that takes Internet and hybrid mail on port 25: the Front End Transport
        service's "Default Frontend <SERVER>" from Exchange 2013 on; the Hub Transport role's "Default <SERVER>" in
        2007 and 2010 (https://blogs.technet.microsoft.com/rmilne/2018/04/03/exchange-2010-default-connector-configuration/ ;
        2013+: https://www.petenetlive.com/KB/Article/0001314)."""
        return f"Default {server}" if self.era in LEGACY_ERAS else f"Default Frontend {server}"

    def legacy_receive_connectors(self, when: str, host: str, fqdns_on_certificate: bool) -> list[str]:
        """Exchange 2007 and 2010 connectors have no -TlsCertificateName: Set-ReceiveConnector and Set-SendConnector give it
        as "Applicable: Exchange Server 2013" and later (https://learn.microsoft.com/powershell/module/exchangepowershell/set-receiveconnector,
        source exchange/exchange-ps/exchange/Set-ReceiveConnector.md in MicrosoftDocs/office-docs-powershell), and the
        2010 SP2/SP3 Set-SendConnector syntax has none. For
        STARTTLS a receive connector loads the certificate that matches its FQDN, the server's FQDN when that is empty
        (https://learn.microsoft.com/en-us/previous-versions/office/exchange-server-2010/bb430748(v=exchg.141);
        2007: bb430748(v=exchg.80)).

        The Default connector has Exchange server authentication, which holds its FQDN to the server's own ("When the
        AuthMechanism parameter on a Receive connector is set to the value ExchangeServer, you must set the FQDN
        parameter ... to ... the FQDN of the transport server ..., the NetBios name ..., or $null", or mail between the
        servers fails: http://unifiedpeople.ru/exchhelp.en/html/2e6d2fc3-1028-44f0-8bcf-d1521c803dc1.htm). So unless
        the certificate carries every server's FQDN (`fqdns_on_certificate`), the partner's mail gets a receive
        connector of its own whose FQDN is `host`, a name on the certificate. -Usage Partner would grant only the
        Partners permission group, whose principal (Partner Server) is given only to Domain Security sessions (mutual
        TLS, the domain in TLSReceiveDomainSecureList): an ordinary partner or Exchange Online session over
        opportunistic STARTTLS stays anonymous and would be refused at MAIL FROM. So a custom connector with TLS
        that also admits anonymous senders, as the Default connector does (-AuthMechanism Tls -PermissionGroups
        AnonymousUsers,Partners; Custom needs -Bindings and -RemoteIPRanges, and the more specific remote range takes
        the partner's connections from the Default connector: New-ReceiveConnector 2007 SP1 bb125139(v=exchg.80),
        2010: exchange/exchange-ps/exchange/New-ReceiveConnector.md in MicrosoftDocs/office-docs-powershell; 2007 RTM
        takes -Usage too: "Receive Connector Usage Types", aa996395). In hybrid on 2010, Exchange Online is that partner
        and the Hybrid Configuration Wizard configured the Default connector for its mail, which the new connector
        takes over: its settings must move too; 2007 takes hybrid mail through a newer hybrid server instead. A `host`
        named autodiscover.<domain> (the classic option's one-name certificate) is what partners see in the SMTP
        banner: said in a comment."""
        connectors = ", ".join(f'"{s}\\{self.receive_connector(s)}"' for s in self.servers)
        why = (f"Exchange {self.version}'s connectors have no -TlsCertificateName (Exchange 2013 and later); for STARTTLS "
               f"each receive connector ({connectors}) takes the certificate that matches its FQDN")
        if fqdns_on_certificate:
            return [f"# {when}: {why}, so keep that FQDN, the server's, a name on the certificate and its renewals"]
        banner = ([f"# {host} is the only name on this certificate, so it is the banner the partner's servers see (and "
                   "some check against reverse DNS): to show the MX name instead, the certificate must carry it"]
                  if host.startswith("autodiscover.") else [])
        default = self.receive_connector(self.servers[0])
        if self.era == "2007":  # hybrid needs an Exchange 2010 or later server, which the wizard configures
            hybrid = ("# hybrid: Exchange Online's mail reaches an Exchange 2007 organisation through the newer hybrid "
                      "server the Hybrid Configuration Wizard configured, not through these connectors: leave Exchange "
                      "Online's IP addresses out of -RemoteIPRanges")
        else:
            hybrid = ("# hybrid (Exchange Online is the partner): the Hybrid Configuration Wizard set up the Default "
                      "connector for Exchange Online's mail (its TLS settings, TlsDomainCapabilities where the version "
                      "has it), and these IP addresses now reach 'Partner TLS' instead: on each server compare the "
                      f'Default connector with \'Partner TLS\' (Get-ReceiveConnector "{self.servers[0]}\\{default}" | '
                      "Format-List Tls*,AuthMechanism,PermissionGroups) and set what differs on 'Partner TLS' "
                      "(Set-ReceiveConnector), or re-run the wizard and check that it configures 'Partner TLS'")
        return [f"# {why}, and the Default connectors keep the server's own (Exchange server authentication requires it), "
                f"which is not a name on this certificate: take the partner's mail on a receive connector of its own "
                f"whose FQDN is {host}, on each server (once: renewals keep that name)",
                "# it takes STARTTLS from anonymous senders, as the Default connector does (-Usage Partner would admit "
                "only Domain Security sessions, mutual TLS with the partner's domain in TLSReceiveDomainSecureList, and "
                "refuse ordinary partner and Exchange Online mail); Partners keeps Domain Security working where it is "
                "set up",
                *banner,
                *(f"New-ReceiveConnector -Name 'Partner TLS' -Server {s} -Usage Custom -Bindings 0.0.0.0:25 "
                  f"-RemoteIPRanges {PARTNER_ONLY_IPS if self.era == '2007' else PARTNER_IPS} -AuthMechanism Tls "
                  "-PermissionGroups AnonymousUsers,Partners "
                  f"-Fqdn {host}" for s in self.servers),
                hybrid]

    def pop_imap_name(self, host: str) -> list[str]:
        """POP3 and IMAP4 take the certificate whose name is `host` (a wildcard cannot be enabled for them; Microsoft,
        "Assign certificates to Exchange Server services"), set on every server: without -Server the cmdlets change
        the local one only. The services read it when they start ("Restart the POP3 services to save the changes":
        http://technet.microsoft.com/en-us/library/bb124934.aspx)."""
        where = [f"-Server {server} " for server in self.servers] if self.named_servers else [""]
        services = ["MSExchangePOP3", "MSExchangeIMAP4"]
        if self.era not in LEGACY_ERAS:  # the Mailbox server's back-end services, from Exchange 2013
            services += ["MSExchangePOP3BE", "MSExchangeIMAP4BE"]
        on = f"on each of {', '.join(self.servers)}" if len(self.servers) > 1 else f"on {self.servers[0]}"
        return [*(f"Set-{protocol}Settings {server}-X509CertificateName {host}"
                  for server in where for protocol in ("Pop", "Imap")),
                f"# then restart {', '.join(services)} {on} (Restart-Service)"]

    def scp(self, servers: list[str], host: str) -> list[str]:
        """Each client access server's autodiscover address (SCP) in Active Directory, read by domain-joined Outlook."""
        return [f"{self.cas_cmdlet} -Identity {server} -AutoDiscoverServiceInternalUri "
                f"https://{host}/Autodiscover/Autodiscover.xml" for server in servers]

    def keep_scp_note(self, host: str) -> str:
        """Without split DNS the autodiscover address (SCP) and internal URLs stay as they are, as in the other options:
        inside, a public name may not resolve or reach the server, and where they name the servers' internal names the
        engine counts the inside clients as warned by the certificate, which lacks them (options._not_carried)."""
        return ("# no split DNS: the autodiscover address (SCP) and internal URLs stay as they are (inside, a public name "
                "may not resolve or reach the server); where they name the servers' own internal names, domain-joined "
                f"Outlook inside gets a certificate warning, which the figures count: once internal DNS (split DNS) or "
                f"hairpin NAT leads {host} to the server, point them at it")

    def urls(self, host: str, autodiscover_host: str, internal: bool) -> list[str]:
        """Point the web services (and, with split DNS, the internal URLs and the SCP) at `host`.

        Outlook Anywhere is off by default on Exchange 2007 and 2010: its Rpc virtual directory, which Set-OutlookAnywhere
        names, exists once Enable-OutlookAnywhere has run, and that needs the RPC over HTTP Proxy Windows component
        (Enable-OutlookAnywhere, bb124993(v=exchg.141); the -DefaultAuthenticationMethod set is 2010's and 2007 SP1's,
        which replaced 2007 RTM's -ExternalAuthenticationMethod: Exchange Team blog, 2007-11-08, "Outlook Anywhere
        changes in Exchange Server 2007 SP1", so before SP1's release, data/parameters.yaml `exchange_2007_sp1_from`,
        the latter). So those versions enable it where Get-OutlookAnywhere finds none, which publishes RPC over HTTP
        to the Internet: the comment says so, for those who do not want it."""
        lines = []
        auth = "-DefaultAuthenticationMethod"
        if self.era in LEGACY_ERAS:
            if self.era == "2007" and int(self.p["start"]) < self.params.day("exchange_2007_sp1_from"):
                auth = "-ExternalAuthenticationMethod"  # Exchange 2007 RTM
            lines.append(f"# Outlook Anywhere is off by default on Exchange {self.version}, and its Rpc virtual directory "
                         "exists only once it is enabled (which needs the RPC over HTTP Proxy Windows component): each "
                         "if-line enables it where Get-OutlookAnywhere finds none, which publishes Outlook Anywhere (RPC "
                         f"over HTTP, Basic authentication) on {host} to the Internet: where it should stay off, leave out "
                         "each server's if-line and the Set-OutlookAnywhere line after it")
        which = "-InternalUrl {u} -ExternalUrl {u}" if internal else "-ExternalUrl {u}"
        for server in self.servers:
            if internal:
                lines += self.scp([server], autodiscover_host)
            dirs = [("Owa", "owa", "/owa"), ("WebServices", "EWS", "/EWS/Exchange.asmx"),
                    ("ActiveSync", "Microsoft-Server-ActiveSync", "/Microsoft-Server-ActiveSync"),
                    ("Oab", "OAB", "/OAB")]
            if self.era != "2007":
                dirs.insert(1, ("Ecp", "ecp", "/ecp"))
            if self.era in ("2013", "2016"):
                dirs.append(("Mapi", "mapi", "/mapi"))
            for cmdlet, vdir, path in dirs:
                lines.append(f'Set-{cmdlet}VirtualDirectory -Identity "{server}\\{vdir} (Default Web Site)" '
                             + which.format(u=f"https://{host}{path}"))
            rpc = f'"{server}\\Rpc (Default Web Site)"'
            if self.era in LEGACY_ERAS:
                lines.append(f"if (-not (Get-OutlookAnywhere -Identity {rpc} -ErrorAction SilentlyContinue)) {{ "
                             f"Enable-OutlookAnywhere -Server {server} -ExternalHostname {host} "
                             f"{auth} Basic -SSLOffloading $false }}")
            oa = f"Set-OutlookAnywhere -Identity {rpc} -ExternalHostname {host}"
            if self.era in ("2013", "2016"):
                oa += f" -InternalHostname {host} -ExternalClientsRequireSsl $true -InternalClientsRequireSsl $true"
            lines.append(oa)
        return lines


def _names(option_row: Mapping[str, Any]) -> list[str]:
    return [n for n in str(option_row.get("names", "")).split(", ") if n]


def _wildcard_certificates(names: list[str], domains: list[str], owa: str) -> list[tuple[str, list[str]]]:
    """(mail domain, its names) for each certificate of the wildcard option: one per domain, as the engine costs it.

    The certificate whose wildcard covers the OWA host comes first: it is the one enabled for IIS.
    """
    certificates = [(d, [n for n in names if n in (f"*.{d}", d)]) for d in domains]
    return sorted(certificates, key=lambda c: c[0] not in (owa, owa.partition(".")[2]))  # *.d covers d and x.d


def key_sizes(issued: Sequence[int], ca: CA | None, mode: str, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """(smallest RSA key, expiry day) of each issuance: the rule keys on the certificate's expiry (notAfter).

    Without a CA, the certificate a public CA sells by hand (`catalog.public_lifetime`).
    """
    days = np.asarray(issued, dtype=np.int64)
    life = ca.certificate_days(days, params, mode) if ca is not None else public_lifetime(days, params)
    expires = days + life.astype(np.int64) - 1
    return params["min_rsa_key_bits"].at(expires).astype(np.int64), expires


def _renewal_key_note(issued: Sequence[int], bits: np.ndarray, expires: np.ndarray, params: Parameters) -> list[str]:
    """A comment when a later issuance in the horizon needs a larger key than the first request."""
    larger = np.flatnonzero(bits > bits[0])
    if not len(larger):
        return []
    k = int(larger[0])
    rule = params["min_rsa_key_bits"]
    since = rule.starts[int(np.searchsorted(rule.starts, expires[k], side="right")) - 1]
    return [f"# renewals from {from_day(issued[k])} expire on or after {from_day(since)}: "
            f"request them with -KeySize {int(bits[k])}"]


def deployment(profile: Mapping[str, Any], option_row: Mapping[str, Any], params: Parameters,
               catalog: Catalog, issued: Sequence[int] | None = None) -> tuple[list[str], list[str]]:
    """(Exchange Management Shell lines, DNS records) that put one option in place for one profile.

    `issued`: issuance days of the option's certificate over the horizon (default: the start only); each
    request uses the smallest key allowed for its expiry.
    """
    option = str(option_row["option"])
    ca_id = str(option_row.get("ca", "") or "")
    ca = catalog[ca_id] if ca_id in catalog.ids else None
    issued = [int(profile["start"])] if issued is None or not len(issued) else [int(d) for d in issued]
    mode = "acme" if option == "acme" or (ca is not None and not ca.manual) else "manual"
    bits, expires = key_sizes(issued, ca, mode, params)
    shell = Shell(profile, params, int(bits[0]))
    internal_ip = INTERNAL_IP_OF_A_SERVER if len(shell.servers) > 1 else INTERNAL_IP
    names = _names(option_row)
    ext = str(profile["external_domain"])
    owa = str(profile["owa_host"])
    domains = [ext, *[d for d in str(profile["extra_domains"]).split(";") if d]]
    # internal names a renewal within the horizon may not carry: the internal URLs move before that renewal
    codes = str(option_row.get("reasons", "")).split("; ")
    revoked = "internal_names_revoked_in_horizon" in codes
    lost_later = revoked or "internal_names_ban_in_horizon" in codes
    # the internal URLs (a fresh server's are its own FQDN) stay only where every certificate carries the internal names
    internal_moved = not (bool(profile["internal_names"]) and option in ("san", "acme", "internal_ca")
                          and not str(option_row.get("not_issuable", "")) and not lost_later)
    split = bool(profile["split_dns"])
    # an OWA host no public DNS can hold (contoso.local): only an internal CA serves it, and only the internal zone
    # can lead to it
    public = bool(publicly_registrable(np.array([owa], dtype=object), params, int(profile["start"]))[0])
    # the autodiscover names beside OWA's: an OWA host autodiscover.<domain> is that domain's autodiscover name already
    autodiscover_hosts = [h for h in (f"autodiscover.{d}" for d in domains) if h != owa]
    dns: list[str] = []
    lines: list[str] = []
    # Exchange 2007/2010's Default receive connectors keep the server's FQDN: a certificate carrying every server's
    # FQDN, in every renewal over the horizon, serves them as they are (Shell.legacy_receive_connectors)
    fqdns_on_certificate = shell.named_servers and not lost_later and all(
        f"{server}.{profile['internal_domain']}".lower() in names for server in shell.servers)

    def connectors(host: str, thumbprint: str = THUMBPRINT, *, automated: bool = False,
                   renewal: bool = False) -> list[str]:
        """The partner / hybrid connector lines for the certificate on `host` (`_connectors`)."""
        return _connectors(shell, profile, ca, host, thumbprint, automated=automated,
                           fqdns_on_certificate=fqdns_on_certificate, renewal=renewal)

    def certificate(names_on: list[str], part: str, what: str | None, renew: bool, services: list[str] | None = None,
                    certreq: bool = False) -> tuple[list[str], str, str | None]:
        """(lines, thumbprint, replaced thumbprint) of one certificate bought by hand: request (`renew`: the renewal
        of the certificate in use), import, enable for `services` (default: the usual; [] none: bound in IIS instead)
        and copy to the other servers. `what`: the certificate's name in its placeholders (None: the main one);
        `certreq`: submitted to the internal CA's WebServer template."""
        new = THUMBPRINT if what is None else f"<thumbprint of the {'renewed ' if renew else ''}{what} certificate>"
        old = None if not renew else f"<thumbprint of the {what or 'certificate'}{' certificate' if what else ''} being replaced>"
        if renew and lost_later:  # the internal URLs moved above: renewals carry only the names a CA still issues
            names_on = [n for n, ok in zip(names_on, publicly_registrable(np.array(names_on, dtype=object), params,
                                                                          issued[-1]), strict=True) if ok]
        request = shell.request(names_on, part, old, certreq)
        enable = shell.enable(thumbprint=new) if services is None else []
        return request + enable + shell.copy_to_other_servers(part, services, new), new, old

    def move_internal_urls(autodiscover_host: str) -> None:
        if internal_moved and split:
            if revoked:
                lines.append(f"# the certificate is revoked on {params.value('internal_names_revocation')} for its "
                             "internal names and its replacement cannot carry them: move the internal URLs to the "
                             "external names before then")
            elif lost_later:
                lines.append("# a renewal within the horizon cannot carry the internal names: "
                             "move the internal URLs to the external names before it")
            lines.extend(shell.urls(owa, autodiscover_host, internal=True))

    def web_records(addresses: Mapping[str, str] | None = None) -> None:
        """OWA, autodiscover and bare-domain records; `addresses`: hosts served on an IP of their own. An autodiscover
        name that is the OWA host has OWA's A record (a CNAME to itself, or beside an A record, is invalid)."""
        addresses = addresses or {}
        if not public:
            dns.append(f"# {owa} is not a public DNS name: no internet record can lead to it, so these records go in "
                       "the internal DNS zone, and clients outside the network reach Exchange only over a VPN")
        dns.append(f"{owa}. A {PUBLIC_IP if public else internal_ip}")
        for host in autodiscover_hosts:
            dns.append(f"{host}. A {addresses[host]}" if host in addresses else f"{host}. CNAME {owa}.")
        if profile["root_on_exchange"] and ext != owa:  # a bare domain that is the OWA host has its record above
            covered = ext in names
            dns.append(f"{ext}. A {addresses.get(ext, PUBLIC_IP if public else internal_ip)}" if covered else
                       f"# {ext} points at Exchange but is not on the certificate: point it at the web site instead")
        internal_zone(f"autodiscover.{ext}")

    def internal_zone(autodiscover_host: str, address: str | None = None) -> None:
        """With split DNS, the internal zone's records for the names the moved internal URLs and the autodiscover
        address (SCP) use: OWA's host, and `autodiscover_host` (on `address` if it has one of its own)."""
        if split and internal_moved and public:  # else the records above are the internal zone's already
            dns.append(f"{owa}. A {internal_ip}   ; internal (split-DNS) zone")
            if autodiscover_host != owa:
                target = f"A {address}" if address else f"CNAME {owa}."
                dns.append(f"{autodiscover_host}. {target}   ; internal (split-DNS) zone")

    def caa() -> None:
        tag = ca.raw.get("caa") if ca is not None else None
        if tag and int(profile["start"]) >= params.day("caa_from"):
            # a CA checks the CAA records of each name on the certificate and of its parents: an OWA host outside the
            # mail domains (webmail.contoso-mail.net) needs its own domain's record too
            parent = owa.partition(".")[2]
            outside = [] if any(owa == d or owa.endswith(f".{d}") for d in domains) else [parent if "." in parent else owa]
            dns.append('# CAA: once a domain has an "issue" record, only the CAs it names may issue for it and its '
                       'subdomains: keep an "issue" record for every other CA that issues certificates for these '
                       'domains (other web sites, a mail gateway), and merge these with any such records already published')
            for d in [*domains, *outside]:
                dns.append(f'{d}. CAA 0 issue "{tag}"')

    label = option

    def single(host_names: list[str], connector_host: str | None, part: str = label, what: str | None = None,
               certreq: bool = False, further: Sequence[tuple[list[str], str, str, Callable[..., list[str]]]] = ()
               ) -> Callable[[bool], tuple[list[str], list[str]]]:
        """The lines of one certificate enabled for the usual services, with the connectors on `connector_host`; then
        of each `further` certificate (names, file part, name in its placeholders, `bind(thumbprint=, renew=)`: its
        IIS binding lines), enabled for no service but bound in IIS."""
        def issue(renew: bool) -> tuple[list[str], list[str]]:
            issued_lines, thumbprint, old = certificate(host_names, part, what, renew, certreq=certreq)
            if connector_host:
                issued_lines += connectors(connector_host, thumbprint, renewal=renew)
            replaced = [old] if old else []
            for more_names, more_part, more_what, bind in further:
                more, more_thumbprint, more_old = certificate(more_names, more_part, more_what, renew, services=[])
                issued_lines += more + bind(thumbprint=more_thumbprint, renew=renew)
                replaced += [more_old] if more_old else []
            return issued_lines, replaced
        return issue

    # (lines, thumbprints replaced) of the certificates bought by hand; renew: those of each renewal
    issue: Callable[[bool], tuple[list[str], list[str]]] | None = None
    if option in ("san", "internal_ca"):
        # an internal CA's certificate cannot serve hybrid mail (partner_tls rules it out)
        issue = single(names, names[0] if option == "san" else None, certreq=option == "internal_ca")
        lines += issue(False)[0]
        move_internal_urls(f"autodiscover.{ext}")
        web_records()
        if option == "internal_ca":
            root = f"{REQUEST_DIR}\\root-ca.cer"
            lines += [*shell.make_folder(root),
                      f"certutil -ca.cert {root}   # this CA's own certificate: the root to give unmanaged computers and "
                      "phones where it is a root CA (one-tier AD CS)",
                      f"# an issuing CA under an offline root (two-tier PKI): give the offline root's certificate instead "
                      f"(certutil -ca.chain {REQUEST_DIR}\\ca-chain.p7b exports the whole chain)"]
        else:
            caa()
    elif option == "classic":
        host = f"autodiscover.{ext}"
        issue = single([host], host)
        lines += issue(False)[0]
        lines += shell.urls(host, host, internal=split) + ([] if split else [shell.keep_scp_note(host)])
        dns += [f"{host}. A {PUBLIC_IP}"]
        if split:
            dns.append(f"{host}. A {internal_ip}   ; internal (split-DNS) zone")
        caa()
    elif option == "split_site":
        # one placeholder per certificate and per web site's IP: one shared placeholder invited pasting one value twice
        sni = shell.sni
        sites = {h: ("Autodiscover" if h == f"autodiscover.{ext}" else f"Autodiscover-{_slug(h.removeprefix('autodiscover.'))}",
                     PUBLIC_IP if sni else f"<public IP for {h}>") for h in autodiscover_hosts}
        issue = single([owa], owa, "owa", owa, further=[([host], _slug(host), host,
                                                         partial(shell.autodiscover_site, host, site, ip))
                                                        for host, (site, ip) in sites.items()])
        lines += issue(False)[0]
        if not autodiscover_hosts:
            lines.append(f"# nothing to split off: {owa}, the only autodiscover name, is the OWA host and its "
                         "certificate serves autodiscover from the Default Web Site (the single-name option)")
        dns += [f"{host}. A {ip}" for host, (_, ip) in sites.items()]
        dns.insert(0, f"{owa}. A {PUBLIC_IP}")
        move_internal_urls(f"autodiscover.{ext}")
        internal_zone(f"autodiscover.{ext}", None if sni else f"<internal IP for autodiscover.{ext}>")
        caa()
    elif option == "wildcard":
        acme = ca is not None and not ca.manual
        (_, first), *further = _wildcard_certificates(names, domains, owa)
        hosts = {d: [f"autodiscover.{d}", *[n for n in certificate if not n.startswith("*.")]] for d, certificate in further}
        ips = {d: None if shell.sni else f"<public IP for autodiscover.{d}>" for d in hosts}
        if acme:
            lines += _acme_client(shell, first, ca, profile, wildcard=True,
                                  further=[(c, shell.bind(hosts[d], f"*.{d}", None, ips[d]), ips[d]) for d, c in further])
            lines += connectors(owa, ACME_THUMBPRINT, automated=True)  # owa: a name the first certificate covers
        else:
            issue = single(first, owa,  # owa: a name the first certificate covers
                           further=[(on, f"{label}-{_slug(d)}", f"*.{d}", partial(shell.bind, hosts[d], f"*.{d}", ip=ips[d]))
                                    for d, on in further])
            lines += issue(False)[0]
        lines += shell.outlook_anywhere_principal(first[0], owa)  # first[0]: the subject of the certificate IIS serves
        if "POP" in shell.facts["services"]:
            lines += shell.pop_imap_name(owa)
        move_internal_urls(f"autodiscover.{ext}")
        web_records({h: ip for d, ip in ips.items() if ip is not None for h in hosts[d]})
        if acme:
            dns += [f"_acme-challenge.{d}. TXT <set by the ACME client through the DNS API>" for d in domains]
        caa()
    elif option == "acme":
        lines += _acme_client(shell, names, ca, profile, wildcard=False)
        lines += connectors(names[0], ACME_THUMBPRINT, automated=True)
        move_internal_urls(f"autodiscover.{ext}")
        web_records()
        if profile["dns_api"]:
            dns += [f"_acme-challenge.{n}. TXT <set by the ACME client through the DNS API>" for n in names]
        caa()
    elif option == "srv_record":
        issue = single([owa], owa)
        lines += issue(False)[0]
        lines += shell.urls(owa, owa, internal=True) if split else [shell.keep_scp_note(owa)]
        dns.append(f"{owa}. A {PUBLIC_IP}")
        for d in domains:
            if f"autodiscover.{d}" == owa:  # the SRV record's target: Outlook reaches it before any SRV lookup
                dns.append(f"# {owa} is the OWA host and keeps its A record: Outlook finds autodiscover for {d} there "
                           "without an SRV record")
                continue
            dns.append(f"_autodiscover._tcp.{d}. 3600 IN SRV 0 0 443 {owa}.")
            dns.append(f"# remove any A/CNAME record for autodiscover.{d} so Outlook falls through to the SRV record")
            if split:  # computers not in the domain look autodiscover up in the internal zone when inside
                dns.append(f"_autodiscover._tcp.{d}. 3600 IN SRV 0 0 443 {owa}.   ; internal (split-DNS) zone")
        internal_zone(owa)
        caa()
    else:
        raise ValueError(f"unknown option {option}")
    requests = [i for i, line in enumerate(lines) if " -KeySize " in line]
    if requests:
        lines[requests[-1] + 1:requests[-1] + 1] = _renewal_key_note(issued, bits, expires, params)
    if issue is not None and mode == "manual" and len(issued) > 1:
        lines += _renewal_block(shell, issue, issued, int(bits[1:].max()))
    return lines, dns


def _renewal_block(shell: Shell, issue: Callable[[bool], tuple[list[str], list[str]]], issued: Sequence[int],
                   key_bits: int) -> list[str]:
    """The commands of each renewal by hand, after the first issuance's: the first issuance's certificate lines
    (`issue`) with each request made from the certificate in use and the renewed certificate enabled, copied, bound
    and named to the connectors as the first was, then the replaced certificates removed from every server."""
    shell.renewal_session(key_bits)
    renewed, replaced = issue(True)
    dates = from_day(issued[1]).isoformat()
    return [f"# ===== each renewal, by hand ({len(issued) - 1} within the horizon, the first on {dates}; see the renewal "
            f"dates): in a new Exchange Management Shell on {shell.servers[0]} =====",
            *renewed,
            "# once the renewed certificates serve (Get-ExchangeCertificate lists their services) and nothing uses the "
            "replaced ones, remove those from every server",
            *shell.remove(replaced)]


# where simple-acme keeps the Exchange import script the commands run (no longer in every release's Scripts folder)
IMPORT_SCRIPT_SOURCE = "Installation/ImportExchange.ps1 of https://github.com/simple-acme/reference-scripts"


def _wacs(names: list[str], ca: Any, profile: Mapping[str, Any], folder: str, *, wildcard: bool,
          services: str | None, ip: str | None = None) -> list[str]:
    """One certificate of the ACME client: with `services`, the Exchange import script enables it for them; without,
    the client only updates the IIS bindings that match its names (on `ip`, where there is no SNI).

    Run from the client's `folder`: PowerShell runs no program of the current folder by its bare name (.\\wacs.exe),
    and the script's ./Scripts path is relative to it."""
    cmd = (f".\\wacs.exe --source manual --host {','.join(names)} --certificatestore My "
           f'--acl-fullcontrol "network service,administrators" ')
    if services is None:
        cmd += "--installation iis --installationsiteid 1" + (f" --sslipaddress {ip}" if ip else "")
    else:
        cmd += ('--installation iis,script --installationsiteid 1 --script "./Scripts/ImportExchange.ps1" '
                f"--scriptparameters \"'{{CertThumbprint}}' '{services}' 1 '{{CacheFile}}' '{{CachePassword}}' "
                "'{CertFriendlyName}'\"")
    directory = (ca.raw.get("acme", {}) or {}).get("directory") if ca is not None else None
    if directory:
        cmd += f" --baseuri {directory}"
    if ca is not None and ca.acme_eab:
        cmd += " --eab-key-identifier <EAB key id> --eab-key <EAB HMAC key>"
    if wildcard or profile["dns_api"]:
        cmd += " --validationmode dns-01 --validation <the plugin for your DNS host>"
    return [f"Set-Location {_quote(folder)}", cmd]


def _windows_rank(release: str) -> tuple[int, bool]:
    """Order of Windows Server releases named by year, an R2 after its year's first ('2008' < '2008 R2' < '2012')."""
    return int(release[:4]), "R2" in release


def _old_windows_note(shell: Shell, client: str, day: int) -> list[str]:
    """Where the Exchange version runs on a Windows older than the ACME `client` of `day` supports, say so and what
    works instead: the client on a newer server with an installation script that brings each certificate over (its
    maintainer's advice), or the older, unsupported release named for Windows Server 2008 on that day; on a Windows
    that no ACME client for Windows runs on (data/parameters.yaml acme_client_windows_floor), only the other server."""
    params, server = shell.params, shell.servers[0]
    since = str(params.value("acme_client_windows_from", day))
    windows = [str(w) for w in shell.facts["windows_server"]]
    old = [w for w in windows if _windows_rank(w) < _windows_rank(since)]
    if not old:
        return []
    floor = _windows_rank(str(params.value("acme_client_windows_floor")))
    fallback = [w for w in old if _windows_rank(w) >= floor]
    none = [w for w in old if _windows_rank(w) < floor]
    where = (f"Exchange {shell.version} runs only on Windows Server {and_list(old, 'or')}" if len(old) == len(windows)
             else f"if {server} runs Windows Server {and_list(old, 'or')} (Exchange {shell.version} also runs "
             f"on {and_list([w for w in windows if w not in old], 'or')})")
    older = (f", or on Windows Server {and_list(fallback, 'or')} use {params.value('acme_client_old_windows_release', day)} "
             f"on {server}, which is no longer supported" if fallback else "")
    unable = (f"; no ACME client for Windows runs on Windows Server {and_list(none, 'or')} (each needs .NET Framework "
              "4.5 or later, which it lacks), so there only the other server can" if none else "")
    return [f"# {client} is supported from Windows Server {since} on; {where}: run {client} on another server with "
            f"Windows Server {since} or later and bring each renewed certificate to {server} with an installation "
            f"script (https://simple-acme.com/manual/system-requirements){older}{unable}; the lines below are for a "
            "server the client runs on"]


def _http01_note(shell: Shell, profile: Mapping[str, Any], *, wildcard: bool) -> list[str]:
    """With HTTP-01 (no DNS API, no wildcard) on several servers: the client runs on the first one, so a load balancer
    that sends the CA's port-80 challenge requests to another server fails the validation now and then."""
    if len(shell.servers) < 2 or wildcard or profile["dns_api"]:
        return []
    first, others = shell.servers[0], and_list(shell.servers[1:], "or")
    return [f"# HTTP-01: the CA fetches http://<each name>/.well-known/acme-challenge/... and only {first} answers: "
            f"before the first run, have the load balancer or firewall send port 80 requests for that path to {first}, "
            f"or validation fails whenever one reaches {others} (or validate by DNS-01 through your DNS host's API)"]


def _acme_client(shell: Shell, names: list[str], ca: Any, profile: Mapping[str, Any], *, wildcard: bool,
                 further: Sequence[tuple[list[str], list[str], str | None]] = ()) -> list[str]:
    """The ACME client maintained on the start date (data/parameters.yaml acme_client: simple-acme, win-acme before it)
    with the Exchange import script (the connectors: `_connectors`), installed in C:\\<its name>.

    `further`: (names, IIS binding lines, IP or None for SNI) of more certificates, served by IIS bindings only.
    """
    day = int(profile["start"])
    client_site = str(shell.params.value("acme_client", day))
    client = client_site.split(" (")[0]
    folder = f"C:\\{client}"
    services = ",".join(s for s in shell.facts["enable"] if s in shell.facts["services"])
    syntax = shell.params.day("acme_client_command_line_from")
    command_line = ([] if day >= syntax else
                    [f"# the lines below are the wacs.exe command line of win-acme 2 (from {from_day(syntax)}) and its "
                     f"successors; {client}'s letsencrypt.exe takes other options (its wiki names them)"])
    lines = [*_old_windows_note(shell, client, day), *_http01_note(shell, profile, wildcard=wildcard),
             f"# install {client_site} in {folder} on {shell.servers[0]}; put the Exchange "
             f"import script in its Scripts folder if the download lacks it ({IMPORT_SCRIPT_SOURCE}: a reference script, "
             "review it first), then run once:", *command_line,
             *_wacs(names, ca, profile, folder, wildcard=wildcard, services=services)]
    for more, bindings, ip in further:
        lines += ["# then create the bindings for the next certificate and run once (renewals update the bindings):",
                  *bindings, *_wacs(more, ca, profile, folder, wildcard=wildcard, services=None, ip=ip)]
    lines += ["iisreset /noforce",
              "# the scheduled task renews; after each renewal the import script runs Enable-ExchangeCertificate but "
              "does not restart IIS as the line above did: add iisreset /noforce as the last line of your copy of the "
              "script, so the web site serves the renewed certificate"]
    if len(shell.servers) > 1:  # before the connectors: each server's receive connector needs the certificate there
        lines.append("# copy each renewed certificate to " + ", ".join(shell.servers[1:])
                     + " (Export-ExchangeCertificate / Import-ExchangeCertificate), or run the client there too")
    return lines


def _connectors(shell: Shell, profile: Mapping[str, Any], ca: CA | None, host: str, thumbprint: str, *,
                automated: bool, fqdns_on_certificate: bool, renewal: bool = False) -> list[str]:
    """With partner TLS, point the hybrid / partner connectors at the certificate just enabled for SMTP, found by its
    `thumbprint` (the placeholder of the lines that imported and enabled it): they name it by `<I>issuer<S>subject`
    (domain-facts.md §2.9), so a certificate from another issuer or with another subject leaves them on the old one and
    breaks hybrid mail flow; and picking it by name and latest expiry could pick the certificate being replaced, which
    may outlive the new one (a longer one bought earlier, an internal CA's). Run once the certificate is on every
    server (each server's receive connector needs it there). `automated`: renewed by the ACME client, whose import
    script prints each renewal's new thumbprint; the lines are repeated after each renewal where the CA's issuing
    intermediate rotates; by hand, the admin re-runs them when a renewal's issuer changes. Exchange 2007 and 2010
    connectors go by FQDN instead (`Shell.legacy_receive_connectors`: `host`, `fqdns_on_certificate`). `renewal`: the
    lines of a renewal by hand, which re-point the connectors (unchanged where issuer and subject are the same)."""
    if not profile["partner_tls"]:
        return []
    if shell.era in LEGACY_ERAS and renewal:
        return [f"# Exchange {shell.version}'s receive connectors take the certificate that matches their FQDN: nothing "
                "to re-point, and once the old certificate is removed only the renewed one matches"]
    if shell.era in LEGACY_ERAS:
        return shell.legacy_receive_connectors("after each renewal" if automated else "now and after each renewal",
                                               host, fqdns_on_certificate)
    if renewal:
        when = "at each renewal (an unchanged issuer and subject leave the connectors as they are)"
    elif not automated:
        when = "now, and after a renewal only if its issuer changes (a CA moves to a new issuing CA now and then)"
    elif ca is None or ca.issuer_rotates:
        when = "now and after each renewal (its issuing intermediate rotates, so the issuer changes)"
    else:
        when = f"now, and after a renewal only if the issuer changes ({ca.name} keeps its issuing CA)"
    renewed = ", with the thumbprint of that renewal's run" if automated else ""
    return [f"# {when}: point the hybrid / partner connectors, the receive connector on every server, at the "
            f"certificate by its issuer and subject{renewed}",
            f"$c = Get-ExchangeCertificate -Server {shell.servers[0]} -Thumbprint {thumbprint}",
            '$tls = "<I>$($c.Issuer)<S>$($c.Subject)"',
            "Get-SendConnector | Where-Object { $_.Name -like 'Outbound to Office 365*' } | "
            "Set-SendConnector -TlsCertificateName $tls",
            *[f'Set-ReceiveConnector "{s}\\{shell.receive_connector(s)}" -TlsCertificateName $tls' for s in shell.servers]]


def renewal_dates(days: list[int]) -> list[str]:
    return [from_day(d).isoformat() for d in days]
