using System.Net.Sockets;
using System.Net.WebSockets;
using Polly;
using Polly.Retry;

namespace CaptionSidecar.ObsBridge;

/// <summary>The retry policy ObsBridge uses when its host gives none (<see cref="ObsClientOptions.Retry"/>,
/// <see cref="ObsCaptionOutputOptions.Retry"/>).</summary>
public static class ObsRetry
{
    /// <summary>
    /// Retries every failure but cancellation, without limit, waiting from <paramref name="firstDelay"/> doubling to
    /// <paramref name="maxDelay"/> with jitter (Polly's exponential backoff with jitter), on <paramref name="time"/>.
    /// </summary>
    public static ResiliencePipeline Default(TimeSpan firstDelay, TimeSpan maxDelay, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex and not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = firstDelay,
                MaxDelay = maxDelay,
            })
            .Build();
    }
}

/// <summary>Why OBS could not be reached, in a few words for a person (no stack trace).</summary>
internal static class ObsUnreachable
{
    /// <summary>The URL as a person typed it: <c>ws://127.0.0.1:4455</c>, without the root path's slash.</summary>
    public static string Display(Uri url) => url.AbsolutePath == "/" && url.Query.Length == 0
        ? url.GetLeftPart(UriPartial.Authority)
        : url.ToString();

    public static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                        SocketError.TimedOut => "no answer",
                        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                        SocketError.ConnectionReset or SocketError.ConnectionAborted => "connection reset",
                        _ => socket.Message,
                    };
                case WebSocketException { WebSocketErrorCode: WebSocketError.NotAWebSocket } notWebSocket:
                    return "it answered, but not as a WebSocket server: " + notWebSocket.Message;
                case ObsRejectedException or TimeoutException or InvalidDataException:
                    return e.Message;
            }
        }

        return exception.Message;
    }
}
