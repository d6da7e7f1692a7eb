namespace CaptionSidecar.Overlay;

/// <summary>Settings of the overlay and control server.</summary>
public sealed class OverlayServerOptions
{
    /// <summary>The default HTTP port.</summary>
    public const int DefaultPort = 4470;

    /// <summary>TCP port to listen on (0 picks a free one; then only 127.0.0.1 is used).</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>
    /// Address to listen on instead of loopback, for viewing the overlay from another machine on the LAN
    /// (for example <c>0.0.0.0</c> or <c>192.168.1.20</c>). Null (the default) listens on 127.0.0.1 and [::1] only.
    /// </summary>
    public string? BindAddress { get; set; }

    /// <summary>
    /// Host names accepted in the Host header besides <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>
    /// (any port). Anything else is refused to defeat DNS rebinding. Add the LAN name or address when binding to a LAN.
    /// </summary>
    public IList<string> AllowedHostNames { get; } = [];

    /// <summary>Folder that keeps the control token file (the per-user config folder); created if missing.</summary>
    public string? TokenFolder { get; set; }

    /// <summary>Updates that may wait for one slow WebSocket client before it is disconnected.</summary>
    public int ClientQueueCapacity { get; set; } = 256;
}
