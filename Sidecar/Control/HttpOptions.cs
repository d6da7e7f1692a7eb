using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Control;

/// <summary>The sidecar's own HTTP server: overlay, control page and control API. Bound from the <c>Http</c> section.</summary>
public sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Port on 127.0.0.1 and [::1]. Default 4470; 0 picks a free port (127.0.0.1 only).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 4470;

    /// <summary>Listen on this address instead of loopback (a LAN): anyone there can read captions. Default: loopback only.</summary>
    public string? Bind { get; set; }

    /// <summary>Host names accepted besides localhost, 127.0.0.1 and [::1] (comma-separated), e.g. the LAN name when <see cref="Bind"/> is set.</summary>
    public string? AllowedHosts { get; set; }
}
