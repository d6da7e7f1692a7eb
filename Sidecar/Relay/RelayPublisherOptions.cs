namespace CaptionSidecar.RelayOutput;

/// <summary>
/// Where the sidecar publishes its captions for the viewer relays (docs/relay.md). Bound from the <c>Relay</c>
/// section; the relay output is off while <see cref="Url"/> is empty.
/// </summary>
public sealed class RelayPublisherOptions
{
    public const string Section = "Relay";

    /// <summary>
    /// The NATS server: <c>nats://[USER:PASS@]HOST[:PORT]</c>, or <c>tls://...</c> for TLS; port 4222 when none is
    /// given. Empty (the default): nothing is published. <c>--relay</c>. Logged with its password as <c>***</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>
    /// The stream's name on NATS, which viewers give in the page's address: 1 to 64 letters, digits and dashes.
    /// Default: the machine's name made to fit. <c>--relay-stream</c>.
    /// </summary>
    public string? Stream { get; set; }

    /// <summary>The NATS user, when it is not in <see cref="Url"/>.</summary>
    public string? User { get; set; }

    /// <summary>The NATS password, when it is not in <see cref="Url"/>; prefer <c>CAPTIONSIDECAR_Relay__Password</c>. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>A NATS credentials file (<c>.creds</c>: a user JWT and its seed) instead of a user and password.</summary>
    public string? CredentialsFile { get; set; }
}
