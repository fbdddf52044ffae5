namespace Nodes.Interop.Tests;

/// <summary>What the real strongSwan side is told: swanctl.conf values for the connection "s2s", child "net".</summary>
public sealed record CharonConfig
{
    public string IkeProposals { get; init; } = "aes256-sha256-modp2048";
    public string EspProposals { get; init; } = "aes256gcm16";
    public string SharedKey { get; init; } = InteropLab.SharedKey;
    /// <summary>swanctl "encap": yes fakes a NAT so that ESP travels in UDP 4500 (libipsec encapsulates anyway).</summary>
    public bool Encap { get; init; } = true;
    /// <summary>Where the simulated side may be: its address, or %any when a NAT hides it.</summary>
    public string RemoteAddrs { get; init; } = InteropLab.LeftOuter;
    public string LocalTs { get; init; } = "10.0.10.0/24";
    public string RemoteTs { get; init; } = "192.168.29.0/24";
    /// <summary>
    /// A second pre-shared key owned by charon's identity alone. charon tries every key that names either identity when
    /// it checks the peer's AUTH, but signs its own AUTH with the best match: the key that names both.
    /// </summary>
    public string? SecondSharedKey { get; init; }
    /// <summary>swanctl dpd_delay in seconds; 0 turns liveness checks off.</summary>
    public int DpdDelaySeconds { get; init; }
    /// <summary>swanctl rekey_time of the IKE SA ("0": charon never rekeys it, a lifetime like "12s" otherwise).</summary>
    public string IkeRekeyTime { get; init; } = "0";
    /// <summary>swanctl rekey_time of the Child SA ("0": charon never rekeys it).</summary>
    public string ChildRekeyTime { get; init; } = "0";
    /// <summary>
    /// swanctl life_time and rand_time of the Child SA, null for charon's defaults (rekey_time + 10 %, and up to all of
    /// that margin taken off the rekey time at random). libipsec counts whole seconds: a short rekey_time needs a hard
    /// lifetime seconds later and a random part below the rekey time, or the hard expiry comes first.
    /// </summary>
    public (string LifeTime, string RandTime)? ChildLifetimes { get; init; }

    /// <summary>strongswan.conf: an explicit plugin list with kernel-libipsec before kernel-netlink (userspace ESP over a TUN).</summary>
    public string StrongswanConf(string dir) => $$"""
        charon {
          load_modular = no
          load = random nonce openssl aes sha1 sha2 hmac kdf gcm gmp curve25519 pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
          install_virtual_ip = no
          retransmit_tries = 2
          retransmit_timeout = 1.0
          plugins {
            vici {
              socket = unix://{{dir}}/charon.vici
            }
          }
          syslog {
            daemon {
              default = -1
            }
          }
          filelog {
            main {
              path = {{dir}}/charon.log
              append = no
              flush_line = yes
              time_format = %H:%M:%S
              ike_name = yes
              default = 1
              cfg = 2
              ike = 2
              chd = 2
              net = 1
              enc = 1
              esp = 1
            }
          }
        }
        """;

    public string SwanctlConf() => $$"""
        connections {
          s2s {
            version = 2
            local_addrs = {{InteropLab.RightOuter}}
            remote_addrs = {{RemoteAddrs}}
            proposals = {{IkeProposals}}
            encap = {{(Encap ? "yes" : "no")}}
            mobike = no
            dpd_delay = {{DpdDelaySeconds}}
            rekey_time = {{IkeRekeyTime}}
            local {
              auth = psk
              id = {{InteropLab.RightId}}
            }
            remote {
              auth = psk
              id = {{InteropLab.LeftId}}
            }
            children {
              net {
                mode = tunnel
                local_ts = {{LocalTs}}
                remote_ts = {{RemoteTs}}
                esp_proposals = {{EspProposals}}
                rekey_time = {{ChildRekeyTime}}{{(ChildLifetimes is { } l ? $"\n        life_time = {l.LifeTime}\n        rand_time = {l.RandTime}" : "")}}
                start_action = none
              }
            }
          }
        }
        secrets {
          ike-s2s {
            id-1 = {{InteropLab.LeftId}}
            id-2 = {{InteropLab.RightId}}
            secret = "{{SharedKey}}"
          }{{(SecondSharedKey is null ? "" : $"\n  ike-right-only {{\n    id-1 = {InteropLab.RightId}\n    secret = \"{SecondSharedKey}\"\n  }}")}}
        }
        """;
}
