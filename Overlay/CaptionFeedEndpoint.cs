using System.Buffers;
using System.Net.WebSockets;
using CaptionSidecar.Overlay.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Overlay;

/// <summary>
/// Serves one WebSocket client of a <see cref="CaptionFeed"/>: what <c>/ws/captions</c> does, for any host that has a
/// feed of its own (the relay's <c>/ws/watch</c>). The feed sends the updates (one send in flight at a time); one
/// reader takes what the client sends and drops it, answering its pings and its close; this closes the connection
/// when the client leaves, is dropped for being slow, or the server stops.
/// </summary>
/// <remarks>
/// Over HTTP/1.1 it accepts the upgrade itself (<see cref="IHttpUpgradeFeature"/>, RFC 6455, no extensions) and owns
/// the connection's stream: the feed writes each update's frame, built once for all clients, and its pongs and close
/// frame go through the same one-sender queue; the client's frames are parsed as they arrive (no receive buffer is
/// held while the client is silent). Any other WebSocket request (HTTP/2's extended CONNECT) is accepted through
/// <c>HttpContext.WebSockets</c>, which frames each payload per client: for that the host must <c>UseWebSockets()</c>
/// and map the route for CONNECT as well as GET (<c>MapMethods(path, ["GET", "CONNECT"], ...)</c>; a <c>MapGet</c>
/// route answers HTTP/2 WebSockets 405).
/// </remarks>
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
    public static Task ServeAsync(
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
        // Not async itself: one state machine less per client (10,000 viewers on a relay).
        return context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && HttpProtocol.IsHttp11(context.Request.Protocol)
            ? ServeFramedAsync(context, upgrade, feed, languages, options, time, logger, stopping)
            : ServeWebSocketAsync(context, feed, languages, options, time, logger, stopping);
    }

    /// <summary>HTTP/2's extended CONNECT (or anything not upgradable): through <c>HttpContext.WebSockets</c>.</summary>
    private static async Task ServeWebSocketAsync(
        HttpContext context,
        CaptionFeed feed,
        IReadOnlyCollection<string> languages,
        CaptionFeedClientOptions options,
        TimeProvider time,
        ILogger logger,
        CancellationToken stopping)
    {
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

    /// <summary>The HTTP/1.1 path: checks the handshake, answers 101 itself, and serves the connection's stream.</summary>
    private static async Task ServeFramedAsync(
        HttpContext context,
        IHttpUpgradeFeature upgrade,
        CaptionFeed feed,
        IReadOnlyCollection<string> languages,
        CaptionFeedClientOptions options,
        TimeProvider time,
        ILogger logger,
        CancellationToken stopping)
    {
        if (WebSocketHandshake.Check(context.Request) is { } refusal)
        {
            context.Response.StatusCode = refusal.Status;
            if (refusal.Status == StatusCodes.Status426UpgradeRequired)
            {
                context.Response.Headers.SecWebSocketVersion = WebSocketHandshake.Version;
            }

            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(refusal.Message, context.RequestAborted);
            return;
        }

        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.SecWebSocketAccept = WebSocketHandshake.ComputeAccept(context.Request.Headers.SecWebSocketKey.ToString());
        var stream = await upgrade.UpgradeAsync();
        var client = new CaptionFeedClient($"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}", languages);
        var parser = new ClientFrameParser(options.MaxClientMessageBytes);
        feed.UseKeepAlive(time, options.KeepAliveInterval);
        var subscription = feed.SubscribeConnection(new FramedStreamConnection(stream), languages, client.Name);
        ClientFrameEvent last;
        var end = CaptionFeedClientEnd.ClientLeft;
        try
        {
            options.Subscribed?.Invoke(client);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping, subscription.Ended);
            last = await ReadUntilEndAsync(stream, parser, subscription, stop.Token);
            end = subscription.WasDropped ? CaptionFeedClientEnd.TooSlow
                : last.Kind == ClientFrameEventKind.Fail ? CaptionFeedClientEnd.Refused
                : last.Kind == ClientFrameEventKind.None && stopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested
                    ? CaptionFeedClientEnd.ServerStopping
                : CaptionFeedClientEnd.ClientLeft;
        }
        finally
        {
            subscription.Dispose();
            options.Left?.Invoke(client, end);
        }

        var closing = end switch
        {
            // It does not read: a close frame would wait behind what it did not read.
            CaptionFeedClientEnd.TooSlow => null,
            CaptionFeedClientEnd.Refused => WebSocketFrames.BuildClose(last.Status, last.Reason),
            CaptionFeedClientEnd.ServerStopping => WebSocketFrames.BuildClose(WebSocketCloseStatus.EndpointUnavailable, "server stopping"),
            // Its close frame is answered with the status it gave (RFC 6455 5.5.1); the connection ended otherwise.
            _ when last.Kind == ClientFrameEventKind.Close =>
                WebSocketFrames.BuildClose(last.Status == WebSocketCloseStatus.Empty ? WebSocketCloseStatus.NormalClosure : last.Status, null),
            _ => null,
        };
        if (last.Kind == ClientFrameEventKind.Fail)
        {
            LogRefused(logger, client.Name, last.Reason ?? string.Empty, (int)last.Status);
        }

        if (closing is null)
        {
            context.Abort();
        }
        else
        {
            subscription.SendControl(FeedMessage.Control(closing));
            // The close frame waits behind a send still in flight; one that does not end in time means the client
            // stopped reading, and aborting ends that send too.
            using var sendTimeout = new CancellationTokenSource(CloseTimeout, time);
            try
            {
                await subscription.SendsEnded.WaitAsync(sendTimeout.Token);
            }
            catch (OperationCanceledException ex)
            {
                LogCloseFailed(logger, ex, client.Name);
                context.Abort();
            }

            if (end == CaptionFeedClientEnd.ServerStopping && !context.RequestAborted.IsCancellationRequested)
            {
                // The client answers our close with its own; returning then ends the connection (the server closes
                // TCP first, RFC 6455 7.1.1). A client that does not answer in time is cut off.
                using var answerTimeout = new CancellationTokenSource(CloseTimeout, time);
                using var answer = CancellationTokenSource.CreateLinkedTokenSource(answerTimeout.Token, context.RequestAborted);
                _ = await ReadUntilEndAsync(stream, parser, subscription, answer.Token);
            }
        }

        // Closed or aborted: the feed's last send has ended or ends now, and no other starts.
        await subscription.SendsEnded;
    }

    /// <summary>
    /// Reads the client's frames until its close frame or a violation (returned), or the end of the connection or
    /// <paramref name="cancellationToken"/> (<see cref="ClientFrameEvent.None"/>), answering pings on the way. It
    /// waits with a zero-byte read, so a silent client (all of them, nearly always) holds no receive buffer.
    /// </summary>
    private static async Task<ClientFrameEvent> ReadUntilEndAsync(
        Stream stream, ClientFrameParser parser, CaptionSubscription subscription, CancellationToken cancellationToken)
    {
        try
        {
            while (!parser.Ended)
            {
                // Returns 0 both when bytes are there and at the end; the real read below tells which.
                _ = await stream.ReadAsync(Memory<byte>.Empty, cancellationToken);
                var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunk);
                try
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, ReceiveChunk), cancellationToken);
                    if (read == 0)
                    {
                        return ClientFrameEvent.None;
                    }

                    if (Parse(parser, buffer.AsSpan(0, read), subscription) is { Kind: not ClientFrameEventKind.None } ended)
                    {
                        return ended;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Stopped, dropped, or the connection broke: the caller tells which.
        }

        return ClientFrameEvent.None;
    }

    /// <summary>Bytes taken from the connection per read: the most a client may send in one message, plus headers, fit in a few.</summary>
    private const int ReceiveChunk = 1024;

    private static ClientFrameEvent Parse(ClientFrameParser parser, ReadOnlySpan<byte> input, CaptionSubscription subscription)
    {
        while (!input.IsEmpty)
        {
            var found = parser.Parse(input, out var consumed);
            input = input[consumed..];
            if (found.Kind == ClientFrameEventKind.Ping)
            {
                subscription.SendControl(FeedMessage.Control(WebSocketFrames.Build(WebSocketFrames.Pong, found.Payload)));
            }
            else if (found.Kind != ClientFrameEventKind.None)
            {
                return found;
            }
        }

        return ClientFrameEvent.None;
    }

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Caption feed client {Client} closed with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string client, string reason, int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Caption feed client connection ended without a close handshake")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception);
}
