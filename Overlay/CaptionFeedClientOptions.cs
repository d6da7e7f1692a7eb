namespace CaptionSidecar.Overlay;

/// <summary>
/// How <see cref="CaptionFeedEndpoint"/> serves one WebSocket client of a <see cref="CaptionFeed"/>: limits, texts
/// and hooks. One instance may be shared by every request of an endpoint (it holds no per-client state).
/// </summary>
public sealed class CaptionFeedClientOptions
{
    /// <summary>The default limit on one message (or frame) a client may send: 1 KiB.</summary>
    public const int DefaultMaxClientMessageBytes = 1024;

    /// <summary>
    /// The largest message a client may send (the feed is read-only: what clients send is read and dropped). A longer
    /// one closes the connection with 1009 (message too big). Default <see cref="DefaultMaxClientMessageBytes"/>.
    /// </summary>
    public int MaxClientMessageBytes { get; init; } = DefaultMaxClientMessageBytes;

    /// <summary>
    /// How often the feed sends a heartbeat (an empty pong) to connections it frames itself, so idle connections and
    /// proxies (nginx's 60 s read timeout) stay open: one timer per feed, none per client. Default 15 s; zero turns
    /// it off. The first client served on a feed sets it for that feed.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The body of the 400 answer to a request that is not a WebSocket upgrade (name the page to open instead).</summary>
    public string NotWebSocketMessage { get; init; } = "This is a WebSocket endpoint; open the caption page in a browser instead.";

    /// <summary>
    /// Called once the client is subscribed to the feed (its current state is queued), on the request's thread.
    /// Keep it short and non-throwing (for example a counter per language).
    /// </summary>
    public Action<CaptionFeedClient>? Subscribed { get; init; }

    /// <summary>
    /// Called exactly once for every client <see cref="Subscribed"/> was called for, when it has left the feed (no
    /// update is sent to it after this), with why it left. Keep it short and non-throwing.
    /// </summary>
    public Action<CaptionFeedClient, CaptionFeedClientEnd>? Left { get; init; }
}

/// <summary>A client of a <see cref="CaptionFeed"/>, as told to the hooks of <see cref="CaptionFeedClientOptions"/>.</summary>
/// <param name="Name">A name for logs: the remote address and port.</param>
/// <param name="Languages">The languages it follows (as given to <see cref="CaptionFeedEndpoint.ServeAsync"/>; empty: all).</param>
public sealed record CaptionFeedClient(string Name, IReadOnlyCollection<string> Languages);

/// <summary>Why a client left a <see cref="CaptionFeed"/>.</summary>
public enum CaptionFeedClientEnd
{
    /// <summary>The client closed the connection (close frame, or the connection ended).</summary>
    ClientLeft,

    /// <summary>Its queue was full: it did not read fast enough and was dropped (<see cref="CaptionFeed.SlowClientsDropped"/>).</summary>
    TooSlow,

    /// <summary>It broke the protocol or sent a message over <see cref="CaptionFeedClientOptions.MaxClientMessageBytes"/>.</summary>
    Refused,

    /// <summary>The server is stopping (the stopping token of <see cref="CaptionFeedEndpoint.ServeAsync"/>).</summary>
    ServerStopping,
}
