using System.Net.WebSockets;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Relay;

/// <summary>
/// Serves one viewer's <c>/ws/watch</c> connection on a stream's <see cref="CaptionFeed"/> (which sends the updates),
/// reading only to see the close: what the viewer sends is dropped, a message over 1 KiB closes with 1009. A thin
/// adapter over <see cref="CaptionFeed.Subscribe"/> until the Overlay library's own endpoint serves any feed.
/// </summary>
internal static partial class ViewerSocket
{
    /// <summary>Largest message a viewer may send.</summary>
    internal const int MaxViewerMessageBytes = 1024;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    public static async Task ServeAsync(
        HttpContext context, CaptionFeed feed, IReadOnlyCollection<string> languages, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        var client = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var clientLeft = new CancellationTokenSource();
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var reading = ReadAsync(socket, clientLeft, logger, stopReading.Token);
        using var subscription = feed.Subscribe(socket, languages, client);
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping, subscription.Ended, clientLeft.Token))
        {
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stop.Token.Register(() => ended.TrySetResult()))
            {
                await ended.Task;
            }
        }

        subscription.Dispose();
        if (subscription.WasDropped)
        {
            socket.Abort();
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var status = stopping.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure;
            using var timeout = new CancellationTokenSource(CloseTimeout, time);
            try
            {
                await socket.CloseOutputAsync(status, stopping.IsCancellationRequested ? "relay stopping" : null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                LogCloseFailed(logger, ex, client);
                socket.Abort();
            }
        }

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

    private static async Task ReadAsync(WebSocket socket, CancellationTokenSource clientLeft, ILogger logger, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxViewerMessageBytes + 1];
        var length = 0;
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                length = received.EndOfMessage ? 0 : length + received.Count;
                if (length > MaxViewerMessageBytes || (!received.EndOfMessage && length == buffer.Length))
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "viewers send nothing", cancellationToken);
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException ex)
        {
            LogReceiveFailed(logger, ex);
        }

        await clientLeft.CancelAsync();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Viewer {Client} went away while closing")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string client);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Viewer connection ended without a close handshake")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception);
}
