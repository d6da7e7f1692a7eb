using Polly;

namespace CaptionSidecar.ObsBridge;

/// <summary>Settings of <see cref="ObsClient"/>.</summary>
public sealed class ObsClientOptions
{
    /// <summary>WebSocket URL of obs-websocket. Default <c>ws://127.0.0.1:4455</c>.</summary>
    public Uri Url { get; set; } = new("ws://127.0.0.1:4455");

    /// <summary>Server password (never logged); null or empty when OBS does not require authentication.</summary>
    public string? Password { get; set; }

    /// <summary>How long a request may wait for its response. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long connecting plus the Hello/Identify handshake may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events to subscribe to. Default General | Inputs | Outputs.</summary>
    public ObsEventSubscription EventSubscriptions { get; set; } =
        ObsEventSubscription.General | ObsEventSubscription.Inputs | ObsEventSubscription.Outputs;

    /// <summary>
    /// How reconnect attempts are retried during one outage: the client runs each connect attempt through it and it
    /// retries the failures (<see cref="ObsConnectionLostException"/>) with its waits. Null (default):
    /// <see cref="ObsRetry.Default"/> from <see cref="ReconnectInitialDelay"/> to <see cref="ReconnectMaxDelay"/>, forever,
    /// with jitter. A host passes its own product-wide policy here. Rejections (4009, 4010) are not run through it:
    /// they are retried after <see cref="RejectedRetryDelay"/>; 4011 is never retried.
    /// </summary>
    public ResiliencePipeline? Retry { get; set; }

    /// <summary>First reconnect delay (before jitter) of the default <see cref="Retry"/>. Default 250 ms.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Largest reconnect delay of the default <see cref="Retry"/>. Default 1.5 s, so captions are back within
    /// about 2 s of OBS accepting connections again (a refused connect to a local port costs next to nothing).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Delay between attempts after OBS rejected the password (4009) or the rpc version (4010). Default 12 s.</summary>
    public TimeSpan RejectedRetryDelay { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>Capacity of the queue between the receive loop and event subscribers; events beyond it are dropped
    /// (counted). Default 1024.</summary>
    public int EventQueueCapacity { get; set; } = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Url is null || (Url.Scheme != "ws" && Url.Scheme != "wss"))
        {
            throw new ArgumentException($"Obs:Url must be a ws:// or wss:// URL (got '{Url}'), e.g. ws://127.0.0.1:4455.");
        }

        if (RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Obs:RequestTimeout and Obs:ConnectTimeout must be positive.");
        }

        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay || RejectedRetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException("Obs reconnect delays must be positive and ReconnectMaxDelay >= ReconnectInitialDelay.");
        }

        if (EventQueueCapacity < 1)
        {
            throw new ArgumentException("Obs:EventQueueCapacity must be at least 1.");
        }
    }
}
