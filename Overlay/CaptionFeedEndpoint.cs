using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Overlay;

/// <summary>
/// Serves one WebSocket client of a <see cref="CaptionFeed"/>: what <c>/ws/captions</c> does, for any host that has a
/// feed of its own (the relay's <c>/ws/watch</c>). The feed sends the updates (one send in flight at a time); one
/// reader takes what the client sends and drops it, answering its close; this closes the socket when the client
/// leaves, is dropped for being slow, or the server stops.
/// </summary>
public static partial class CaptionFeedEndpoint
{
    /// <summary>How long the close frame may take to send, and then how long the client may take to answer it.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Serves the WebSocket request of <paramref name="context"/> on <paramref name="feed"/> until the client leaves,
    /// is dropped, or <paramref name="stopping"/> fires; a request that is not a WebSocket upgrade gets 400 with
    /// <see cref="CaptionFeedClientOptions.NotWebSocketMessage"/>. The caller checks everything else first (origin,
    /// caps, the language names) and answers refusals itself.
    /// </summary>
    /// <param name="context">The request: an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT.</param>
    /// <param name="feed">The feed to subscribe the client to.</param>
    /// <param name="languages">The languages the client follows (empty: all); its current state comes first.</param>
    /// <param name="options">Limits and hooks (<see cref="CaptionFeedClientOptions.Subscribed"/>, <see cref="CaptionFeedClientOptions.Left"/>).</param>
    /// <param name="time">The clock of the close handshake's timeouts.</param>
    /// <param name="logger">Where connection-level events go (Debug).</param>
    /// <param name="stopping">The server is stopping: the client gets a close frame with 1001 (going away).</param>
    /// <returns>Completes when the connection is closed or aborted and the feed is done with it.</returns>
    public static async Task ServeAsync(
        HttpContext context,
        CaptionFeed feed,
        IReadOnlyCollection<string> languages,
        CaptionFeedClientOptions options,
        TimeProvider time,
        ILogger logger,
        CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(languages);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(options.NotWebSocketMessage, context.RequestAborted);
            return;
        }

        var client = new CaptionFeedClient($"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}", languages);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await ServeSocketAsync(socket, client, context.RequestAborted, feed, options, time, logger, stopping);
    }

    /// <summary>Parses <c>?lang=en,es</c>; empty means every language.</summary>
    public static string[] ParseLanguages(string? value) =>
        (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task ServeSocketAsync(
        WebSocket socket,
        CaptionFeedClient client,
        CancellationToken requestAborted,
        CaptionFeed feed,
        CaptionFeedClientOptions options,
        TimeProvider time,
        ILogger logger,
        CancellationToken stopping)
    {
        using var clientLeft = new CancellationTokenSource();
        // The reader outlives the feed's sends so it can take the client's answer to our close frame.
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        var reader = new ClientReader(socket, options.MaxClientMessageBytes, clientLeft, logger);
        var reading = reader.RunAsync(stopReading.Token);
        var subscription = feed.Subscribe(socket, client.Languages, client.Name);
        options.Subscribed?.Invoke(client);
        try
        {
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping, subscription.Ended, clientLeft.Token))
            {
                // The feed writes to the socket (see CaptionFeed); this connection only waits for its end.
                var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (stop.Token.Register(() => ended.TrySetResult()))
                {
                    await ended.Task;
                }
            }
        }
        finally
        {
            subscription.Dispose();
            var end = subscription.WasDropped ? CaptionFeedClientEnd.TooSlow
                : reader.Refused ? CaptionFeedClientEnd.Refused
                : stopping.IsCancellationRequested && !clientLeft.IsCancellationRequested ? CaptionFeedClientEnd.ServerStopping
                : CaptionFeedClientEnd.ClientLeft;
            options.Left?.Invoke(client, end);
        }

        if (subscription.WasDropped)
        {
            // Its queue is full because it does not read: a close handshake would wait on it too.
            socket.Abort();
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var (status, description) = reader.Refused
                ? (WebSocketCloseStatus.MessageTooBig, "message too big")
                : stopping.IsCancellationRequested ? (WebSocketCloseStatus.EndpointUnavailable, "server stopping")
                : (WebSocketCloseStatus.NormalClosure, (string?)null);
            // The close frame waits behind a send still in flight; one that does not end in time means the client
            // stopped reading, and aborting ends that send too.
            using var timeout = new CancellationTokenSource(CloseTimeout, time);
            try
            {
                await socket.CloseOutputAsync(status, description, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                LogCloseFailed(logger, ex, client.Name);
                socket.Abort();
            }
        }

        // Closed or aborted: the feed's last send has ended or ends now, and no other starts.
        await subscription.SendsEnded;
        try
        {
            await reading.WaitAsync(CloseTimeout, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            await stopReading.CancelAsync();
            await reading;
        }
    }

    /// <summary>Reads what the client sends and drops it; ends on its close, on an error, or on a message over the limit.</summary>
    private sealed class ClientReader(WebSocket socket, int maxMessageBytes, CancellationTokenSource clientLeft, ILogger logger)
    {
        /// <summary>True when the client sent a message over the limit.</summary>
        public bool Refused { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[Math.Min(maxMessageBytes + 1, 4096)];
            var messageBytes = 0;
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    messageBytes = received.EndOfMessage ? 0 : messageBytes + received.Count;
                    if (messageBytes > maxMessageBytes || received.Count > maxMessageBytes)
                    {
                        Refused = true;
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The sending side ended first.
            }
            catch (WebSocketException ex)
            {
                LogReceiveFailed(logger, ex);
            }

            await clientLeft.CancelAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Caption feed client {Client} went away while closing")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string client);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Caption feed client connection ended without a close handshake")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception);
}
