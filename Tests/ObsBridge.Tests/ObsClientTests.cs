using CaptionSidecar.Tests.Support;
using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>The client against the protocol-exact fake obs-websocket server.</summary>
public sealed class ObsClientTests
{
    internal static ObsClient NewClient(Uri url, string? password, TimeProvider? time = null, RecordingLogger<ObsClient>? logger = null,
        Action<ObsClientOptions>? configure = null)
    {
        var options = new ObsClientOptions { Url = url, Password = password };
        configure?.Invoke(options);
        return new ObsClient(Options.Create(options), logger ?? new RecordingLogger<ObsClient>(), time ?? TimeProvider.System);
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_HelloWithoutAuth_ConnectsAndAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Password = null;
        await using var client = NewClient(server.Url, password: null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var response = await client.SendRequestAsync("GetVersion", cancellationToken: ct);

        Assert.True(response.IsSuccess);
        Assert.Equal("5.5.2", response.Data.GetProperty("obsWebSocketVersion").GetString());
        Assert.Equal(ObsConnectionState.Connected, client.Status.State);
        Assert.Equal("30.2.2", client.Status.ObsVersion);
        Assert.NotNull(client.Status.ConnectedSince);
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_CorrectPassword_Identifies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Password = "s3cret-pw";
        await using var client = NewClient(server.Url, "s3cret-pw");
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var response = await client.SendRequestAsync("GetCurrentProgramScene", cancellationToken: ct);

        Assert.Equal("Scene", response.EnsureSuccess().Data.GetProperty("currentProgramSceneName").GetString());
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_UnknownRequestType_ReturnsStatus204()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var response = await client.SendRequestAsync("MakeCoffee", new JsonObject { ["sugar"] = 2 }, ct);

        Assert.False(response.IsSuccess);
        Assert.Equal(ObsStatusCode.UnknownRequestType, response.Code);
        Assert.Equal("MakeCoffee", response.RequestType);
        Assert.Equal("Your request type is not valid.", response.Comment);
        Assert.Throws<ObsRequestFailedException>(() => response.EnsureSuccess());
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_NotConnected_FailsAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = NewClient(new Uri("ws://127.0.0.1:1"), null);

        await Assert.ThrowsAsync<ObsConnectionLostException>(() => client.SendRequestAsync("GetVersion", cancellationToken: ct));
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_NoResponse_TimesOutWhenFakeTimeAdvances()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.AnswerRequests = false;
        var time = new FakeTimeProvider();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.RequestReceived += _ => received.TrySetResult();
        await using var client = NewClient(server.Url, null, time);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var request = client.SendRequestAsync("GetVersion", cancellationToken: ct);
        await received.Task.WaitAsync(ct);
        Assert.False(request.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(5.001));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => request);
        Assert.Contains("GetVersion", ex.Message, StringComparison.Ordinal);
        Assert.True(client.IsConnected); // a timeout does not drop the connection
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_SlowResponsesOutOfOrder_EachMatchedById()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.HoldResponses = true;
        await using var client = NewClient(server.Url, null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var types = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? "GetVersion" : "GetCurrentProgramScene").ToList();
        var requests = types.Select(t => client.SendRequestAsync(t, cancellationToken: ct)).ToList();
        await Poll.UntilAsync(() => server.HeldResponses == 40, "all 40 requests arrived", ct);
        await server.ReleaseHeldAsync(); // last request answered first
        var responses = await Task.WhenAll(requests);

        Assert.Equal(types, responses.Select(r => r.RequestType));
        Assert.All(responses, r => Assert.True(r.IsSuccess));
        Assert.Equal(40, responses.Select(r => r.RequestId).Distinct().Count());
    }

    [Fact(Timeout = 30000)]
    public async Task SendBatchAsync_TwoRequests_ResultsInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var results = await client.SendBatchAsync([new ObsRequest("GetVersion"), new ObsRequest("Nope")], cancellationToken: ct);

        Assert.Equal(2, results.Count);
        Assert.True(results[0].IsSuccess);
        Assert.Equal(ObsStatusCode.UnknownRequestType, results[1].Code);
    }

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SendRequestAsync_ServerGoesAwayMidRequest_FailsFastAndReconnects(bool abortWithoutClose)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.AnswerRequests = false;
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.RequestReceived += _ => received.TrySetResult();
        // A long request timeout: the request must fail because the connection dropped, not because of the timeout.
        await using var client = NewClient(server.Url, null, configure: o => o.RequestTimeout = TimeSpan.FromMinutes(5));
        var connections = 0;
        client.Connected += (_, _) => Interlocked.Increment(ref connections);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        var pending = client.SendRequestAsync("GetVersion", cancellationToken: ct);
        await received.Task.WaitAsync(ct);
        if (abortWithoutClose)
        {
            server.AbortAll();
        }
        else
        {
            await server.CloseAllAsync(1001, "Server stopping.");
        }

        await Assert.ThrowsAsync<ObsConnectionLostException>(() => pending);
        server.AnswerRequests = true;
        await Poll.UntilAsync(() => Volatile.Read(ref connections) == 2, "the client reconnected", ct);
        await client.WaitUntilConnectedAsync(ct);
        var after = await client.SendRequestAsync("GetVersion", cancellationToken: ct);
        Assert.True(after.IsSuccess);
        Assert.Equal(2, client.Status.Connections);
    }

    [Fact(Timeout = 30000)]
    public async Task Start_WrongPassword_ReportsAuthenticationFailedAndRetriesOnlySlowly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Password = "right";
        var time = new TimerSignallingTimeProvider();
        var logger = new RecordingLogger<ObsClient>();
        await using var client = NewClient(server.Url, "wrong", time, logger);
        client.Start();

        // The client's next wait is the slow rejected-retry delay (12 s), not the fast reconnect backoff.
        await UntilTimerAsync(time, TimeSpan.FromSeconds(12), ct);
        Assert.Equal(ObsConnectionState.AuthenticationFailed, client.Status.State);
        Assert.Contains("4009", client.Status.LastError, StringComparison.Ordinal);
        Assert.Contains("password", client.Status.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("4009", StringComparison.Ordinal));
        Assert.DoesNotContain("wrong", logger.All, StringComparison.Ordinal); // the password is never logged
        Assert.Equal(1, server.ConnectionAttempts);

        // 11 s of fake time fire no timer the client waits on, so no new attempt can start.
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(1, server.ConnectionAttempts);

        // The password gets fixed (here: on the server side); the next slow retry connects.
        server.Password = "wrong";
        time.Advance(TimeSpan.FromSeconds(2));
        await client.WaitUntilConnectedAsync(ct);
        Assert.Equal(2, server.ConnectionAttempts);
        Assert.Equal(ObsConnectionState.Connected, client.Status.State);
        Assert.Null(client.Status.LastError);
    }

    /// <summary>Waits until the code under test starts a timer of <paramref name="due"/> (other timers are skipped).</summary>
    internal static async Task UntilTimerAsync(TimerSignallingTimeProvider time, TimeSpan due, CancellationToken ct)
    {
        while (await time.NextTimerAsync(ct) != due)
        {
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Start_ObsNotRunning_OneReadableWarningWithoutStackTraceThenRetriesThroughThePolicy()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = TestHost.FreePort();
        var logger = new RecordingLogger<ObsClient>();
        var retries = 0;
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(1),
                BackoffType = Polly.DelayBackoffType.Constant,
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref retries);
                    return default;
                },
            })
            .Build();
        await using var client = NewClient(new Uri($"ws://127.0.0.1:{port}"), null, logger: logger, configure: o => o.Retry = retry);
        client.Start();

        await Poll.UntilAsync(() => Volatile.Read(ref retries) >= 3, "the policy retried three times", ct);

        var warning = Assert.Single(logger.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal($"OBS is not reachable at ws://127.0.0.1:{port} (connection refused): start OBS and enable its WebSocket server (Tools > WebSocket Server Settings); retrying",
            warning.Message);
        Assert.Null(warning.Exception);
        Assert.All(logger.Entries, e => Assert.Null(e.Exception));
        Assert.Equal(ObsConnectionState.Disconnected, client.Status.State);
        Assert.Contains("connection refused", client.Status.LastError, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task EventReceived_ManyEvents_DeliveredInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        var seen = new List<int>();
        client.EventReceived += (_, e) =>
        {
            lock (seen)
            {
                seen.Add(e.EventData!.Value.GetProperty("n").GetInt32());
            }
        };
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        for (var i = 0; i < 300; i++)
        {
            await server.EmitAsync("CustomEvent", 1, new JsonObject { ["n"] = i });
        }

        await Poll.UntilAsync(() => { lock (seen) { return seen.Count == 300; } }, "300 events arrived", ct);
        Assert.Equal(Enumerable.Range(0, 300), seen);
    }

    [Fact(Timeout = 30000)]
    public async Task EventReceived_NotSubscribedIntent_NotDelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null, configure: o => o.EventSubscriptions = ObsEventSubscription.Outputs);
        var types = new List<string>();
        client.EventReceived += (_, e) => { lock (types) { types.Add(e.EventType); } };
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        await server.EmitAsync("InputCreated", 8, new JsonObject());
        await server.EmitAsync("StreamStateChanged", 64, new JsonObject { ["outputActive"] = true });

        await Poll.UntilAsync(() => { lock (types) { return types.Count >= 1; } }, "an event arrived", ct);
        Assert.Equal(["StreamStateChanged"], types);
    }

    [Fact(Timeout = 30000)]
    public async Task EventReceived_SlowSubscriber_DoesNotBlockResponses()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.EventReceived += (_, _) =>
        {
            entered.TrySetResult();
            release.Wait(ct);
        };
        client.Start();
        await client.WaitUntilConnectedAsync(ct);

        await server.EmitAsync("CustomEvent", 1, new JsonObject());
        await entered.Task.WaitAsync(ct);
        var response = await client.SendRequestAsync("GetVersion", cancellationToken: ct);
        release.Set();

        Assert.True(response.IsSuccess);
    }

    [Fact(Timeout = 30000)]
    public async Task Start_UnsupportedRpcVersion_ReportsStateAndRetriesOnlySlowly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.IdentifyCloseCode = 4010;
        var time = new TimerSignallingTimeProvider();
        await using var client = NewClient(server.Url, null, time);
        client.Start();

        await UntilTimerAsync(time, TimeSpan.FromSeconds(12), ct);
        time.Advance(TimeSpan.FromSeconds(11)); // far beyond the fast reconnect backoff, short of the slow retry

        Assert.Equal(ObsConnectionState.UnsupportedRpcVersion, client.Status.State);
        Assert.Contains("4010", client.Status.LastError, StringComparison.Ordinal);
        Assert.Equal(1, server.ConnectionAttempts);
        Assert.False(client.IsConnected);
    }

    [Fact(Timeout = 30000)]
    public async Task Start_SessionInvalidated_StopsReconnecting()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.IdentifyCloseCode = 4011;
        await using var client = NewClient(server.Url, null, new FakeTimeProvider());
        client.Start();

        await client.ConnectionLoop!.WaitAsync(ct); // the connection loop ended: nothing will try again

        Assert.Equal(ObsConnectionState.SessionInvalidated, client.Status.State);
        Assert.Contains("4011", client.Status.LastError, StringComparison.Ordinal);
        Assert.Equal(1, server.ConnectionAttempts);
        Assert.False(client.IsConnected);
    }

    [Fact(Timeout = 30000)]
    public async Task SendRequestAsync_Response_CallerDoesNotResumeOnTheReceiveLoop()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);
        using var release = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first caller blocks right after its response (a misbehaving caller of a public library): the receive
        // loop must not be the thread it blocks, or the second response would never arrive.
        var first = Task.Run(async () =>
        {
            await client.SendRequestAsync("GetVersion", cancellationToken: ct);
            blocked.TrySetResult();
            release.Wait(ct);
        }, ct);
        await blocked.Task.WaitAsync(ct);
        var second = await client.SendRequestAsync("GetVersion", cancellationToken: ct);
        release.Set();
        await first;

        Assert.True(second.IsSuccess);
    }

    [Fact(Timeout = 30000)]
    public async Task Connected_Raised_TheClientIsAlreadyConnected()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connected += (_, _) => seen.TrySetResult(client.IsConnected);
        client.Start();

        Assert.True(await seen.Task.WaitAsync(ct)); // a subscriber can send its resync requests from the handler
    }

    [Fact(Timeout = 30000)]
    public async Task DisposeAsync_Connected_ClosesTheConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        var client = NewClient(server.Url, null);
        client.Start();
        await client.WaitUntilConnectedAsync(ct);
        Assert.Equal(1, server.IdentifiedSessions);

        await client.DisposeAsync();

        Assert.False(client.IsConnected);
        Assert.Equal(ObsConnectionState.Stopped, client.Status.State);
        await Poll.UntilAsync(() => server.IdentifiedSessions == 0, "the server saw the connection end", ct);
    }

    [Fact(Timeout = 30000)]
    public async Task EventReceived_EventLargerThanOneReceiveChunk_ArrivesWholeAndInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        await using var client = NewClient(server.Url, null);
        var texts = new List<string>();
        client.EventReceived += (_, e) => { lock (texts) { texts.Add(e.EventData!.Value.GetProperty("text").GetString()!); } };
        client.Start();
        await client.WaitUntilConnectedAsync(ct);
        var big = string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)('a' + (i % 26)))); // > the 16 KiB chunk

        await server.EmitAsync("CustomEvent", 1, new JsonObject { ["text"] = "small 1" });
        await server.EmitAsync("CustomEvent", 1, new JsonObject { ["text"] = big });
        await server.EmitAsync("CustomEvent", 1, new JsonObject { ["text"] = "small 2" });

        await Poll.UntilAsync(() => { lock (texts) { return texts.Count == 3; } }, "3 events arrived", ct);
        Assert.Equal(["small 1", big, "small 2"], texts);
    }
}
