using CaptionSidecar.Overlay.Tests.Fakes;
using CaptionSidecar.Overlay.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Overlay.Tests;

/// <summary>The feed's control frames on a framed connection: the one control slot, the close frame, the heartbeat's timer.</summary>
public sealed class FeedControlFrameTests
{
    [Fact(Timeout = 30000)]
    public async Task Control_WhileASendIsPending_GoesBeforeTheQueuedUpdates()
    {
        var feed = NewFeed();
        var connection = new RecordingConnection { Hold = true };
        using var subscription = feed.SubscribeConnection(connection, [], "client");
        feed.Publish(OverlayTestServer.Caption("en", 1, ("one", "")));
        feed.Publish(OverlayTestServer.Caption("en", 2, ("two", "")));

        subscription.SendControl(FeedMessage.Control(WebSocketFrames.Build(WebSocketFrames.Pong, "a"u8)));
        subscription.SendControl(FeedMessage.Control(WebSocketFrames.Build(WebSocketFrames.Pong, "b"u8)));
        var sender = subscription.SendsEnded;
        connection.Release();
        await sender.WaitAsync(TestContext.Current.CancellationToken);

        // The later pong replaced the unsent one (RFC 6455 5.5.3), and went before update 2.
        Assert.Equal(["text", "pong b", "text"], connection.Kinds);
    }

    [Fact(Timeout = 30000)]
    public async Task Close_DropsQueuedUpdatesAndNothingFollowsIt()
    {
        var feed = NewFeed();
        var connection = new RecordingConnection { Hold = true };
        var subscription = feed.SubscribeConnection(connection, [], "client");
        feed.Publish(OverlayTestServer.Caption("en", 1, ("one", "")));
        feed.Publish(OverlayTestServer.Caption("en", 2, ("two", "")));

        subscription.Dispose();
        subscription.SendControl(FeedMessage.Control(WebSocketFrames.BuildClose(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null)));
        subscription.SendControl(FeedMessage.Control(WebSocketFrames.Build(WebSocketFrames.Pong, "late"u8)));
        feed.Publish(OverlayTestServer.Caption("en", 3, ("three", "")));
        var sender = subscription.SendsEnded;
        connection.Release();
        await sender.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["text", "close"], connection.Kinds);
    }

    [Fact]
    public void Heartbeat_OneTimerPerFeed_WhileItHasClients_OnlyToFramedConnections()
    {
        var time = new FakeTimeProvider();
        var feed = NewFeed();
        feed.UseKeepAlive(time, TimeSpan.FromSeconds(15));
        var framed = new RecordingConnection();
        var socket = new FakeFeedSocket();
        var first = feed.SubscribeConnection(framed, [], "framed");
        var second = feed.Subscribe(socket, [], "socket");

        time.Advance(TimeSpan.FromSeconds(15));
        time.Advance(TimeSpan.FromSeconds(15));
        first.Dispose();
        second.Dispose();
        time.Advance(TimeSpan.FromSeconds(15));

        Assert.Equal(["pong ", "pong "], framed.Kinds);
        Assert.Empty(socket.Sent);
    }

    private static CaptionFeed NewFeed() =>
        new(Options.Create(new OverlayServerOptions { ClientQueueCapacity = 8 }), NullLogger<CaptionFeed>.Instance);

    /// <summary>Records each frame's kind ("text", "pong PAYLOAD", "close"); holds sends until released when told.</summary>
    private sealed class RecordingConnection : IFeedConnection
    {
        private TaskCompletionSource? _held;

        public bool Hold { get; set; }

        public List<string> Kinds { get; } = [];

        public bool SendsControlFrames => true;

        public ValueTask SendAsync(FeedMessage message)
        {
            Kinds.Add((message.Frame[0] & 0x0F) switch
            {
                WebSocketFrames.Text => "text",
                WebSocketFrames.Pong => "pong " + System.Text.Encoding.ASCII.GetString(message.Payload.Span),
                WebSocketFrames.Close => "close",
                var other => other.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            if (!Hold)
            {
                return ValueTask.CompletedTask;
            }

            // Only the first send is held (the one in flight while the test queues behind it).
            Hold = false;
            _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask(_held.Task);
        }

        /// <summary>Completes the held send; its continuation sends what queued behind it (await the subscription's SendsEnded).</summary>
        public void Release() => _held!.SetResult();
    }
}
