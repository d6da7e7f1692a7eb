using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Overlay;

/// <summary>
/// Serves one <c>/ws/captions</c> client: the <see cref="CaptionFeed"/> sends the updates (one send in flight at a
/// time), one reader only watches for the close (the feed is read-only; anything the client sends is discarded), and
/// this closes the socket when the client leaves, is dropped, or the server stops. The close handshake's timeouts run
/// on <paramref name="time"/>.
/// </summary>
internal sealed partial class CaptionSocket(CaptionFeed feed, TimeProvider time, ILogger logger)
{
    /// <summary>How long the close frame may take to send, and then how long the client may take to answer it.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    public async Task ServeAsync(HttpContext context, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                "/ws/captions is a WebSocket endpoint; open /overlay in a browser instead.", context.RequestAborted);
            return;
        }

        var languages = ParseLanguages(context.Request.Query["lang"].ToString());
        var client = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var clientLeft = new CancellationTokenSource();
        // The reader outlives the feed's sends so it can take the client's answer to our close frame.
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var reading = WatchForCloseAsync(socket, clientLeft, stopReading.Token);
        using var subscription = feed.Subscribe(socket, languages, client);
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping, subscription.Ended, clientLeft.Token))
        {
            // The feed writes to the socket (see CaptionFeed); this connection only waits for its end.
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stop.Token.Register(() => ended.TrySetResult()))
            {
                await ended.Task;
            }
        }

        subscription.Dispose();
        if (subscription.WasDropped)
        {
            // Its queue is full because it does not read: a close handshake would wait on it too.
            socket.Abort();
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var status = stopping.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure;
            // The close frame waits behind a send still in flight; one that does not end in time means the client
            // stopped reading, and aborting ends that send too.
            using var timeout = new CancellationTokenSource(CloseTimeout, time);
            try
            {
                await socket.CloseOutputAsync(status, stopping.IsCancellationRequested ? "server stopping" : null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                LogSendFailed(ex, client);
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

    /// <summary>Parses <c>?lang=en,es</c>; empty means every language.</summary>
    internal static string[] ParseLanguages(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task WatchForCloseAsync(WebSocket socket, CancellationTokenSource clientLeft, CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
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
            LogReceiveFailed(ex);
        }

        await clientLeft.CancelAsync();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Overlay client {Client} went away while closing")]
    private partial void LogSendFailed(Exception exception, string client);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Overlay client connection ended without a close handshake")]
    private partial void LogReceiveFailed(Exception exception);
}
