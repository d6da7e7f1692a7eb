using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>The mute watch against the fake obs-websocket server.</summary>
public sealed class ObsInputMuteWatchTests
{
    private const long InputsIntent = 1 << 3;

    private static Task EmitMuteAsync(FakeObsServer server, string input, bool muted) =>
        server.EmitAsync("InputMuteStateChanged", InputsIntent, new JsonObject { ["inputName"] = input, ["inputMuted"] = muted });

    /// <summary>Completes once the client has dispatched an event of <paramref name="eventType"/>: handlers run in
    /// subscription order on one loop, so the watch (subscribed earlier) has handled it and every event before it.</summary>
    private static Task<ObsEvent> NextEventAsync(ObsClient client, string eventType)
    {
        var seen = new TaskCompletionSource<ObsEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, ObsEvent e)
        {
            if (e.EventType == eventType)
            {
                client.EventReceived -= Handler;
                seen.TrySetResult(e);
            }
        }

        client.EventReceived += Handler;
        return seen.Task;
    }

    [Theory(Timeout = 30000)]
    [InlineData(true, ObsMuteState.Muted)]
    [InlineData(false, ObsMuteState.Unmuted)]
    public async Task Start_InputExists_ReadsItsMuteState(bool muted, ObsMuteState expected)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic/Aux"] = muted;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Mic/Aux", new RecordingLogger<ObsInputMuteWatch>());

        Assert.Equal(ObsMuteState.Unknown, watch.State);
        watch.Start();

        await Poll.UntilAsync(() => watch.State == expected, $"the state is {expected}", ct);
        var request = Assert.Single(server.Requests, r => r.Type == "GetInputMute");
        Assert.Equal("Mic/Aux", request.Data!["inputName"]!.GetValue<string>());
    }

    [Fact(Timeout = 30000)]
    public async Task InputMuteStateChanged_ForTheInput_FlipsTheStateAndRaisesStateChanged()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic/Aux"] = false;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Mic/Aux", new RecordingLogger<ObsInputMuteWatch>());
        var changes = new List<ObsMuteState>();
        watch.StateChanged += (_, state) =>
        {
            lock (changes)
            {
                changes.Add(state);
            }
        };
        watch.Start();
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Unmuted, "the first read", ct);

        await EmitMuteAsync(server, "Mic/Aux", true);
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Muted, "muted by the event", ct);
        await EmitMuteAsync(server, "Mic/Aux", false);
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Unmuted, "unmuted by the event", ct);

        lock (changes)
        {
            Assert.Equal([ObsMuteState.Unmuted, ObsMuteState.Muted, ObsMuteState.Unmuted], changes);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task InputMuteStateChanged_ForAnotherInput_IsIgnored()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic/Aux"] = true;
        server.InputMuted["Desktop Audio"] = true;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Mic/Aux", new RecordingLogger<ObsInputMuteWatch>());
        watch.Start();
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Muted, "the first read", ct);

        var handled = NextEventAsync(client, "InputMuteStateChanged");
        await EmitMuteAsync(server, "Desktop Audio", false);
        await handled.WaitAsync(ct);

        Assert.Equal(ObsMuteState.Muted, watch.State);
        Assert.Equal("Mic/Aux", watch.InputName);
    }

    [Fact(Timeout = 30000)]
    public async Task Start_InputMissing_UnknownWithAWarningNamingItAndTheInputsThatExist()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic/Aux"] = false;
        server.InputMuted["Desktop Audio"] = false;
        var logger = new RecordingLogger<ObsInputMuteWatch>();
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Microphone", logger);
        watch.Start();

        await Poll.UntilAsync(() => logger.Entries.Any(e => e.Level == LogLevel.Warning), "a warning", ct);

        Assert.Equal(ObsMuteState.Unknown, watch.State);
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning).Message;
        Assert.Contains("'Microphone'", warning, StringComparison.Ordinal);
        Assert.Contains("'Desktop Audio', 'Mic/Aux'", warning, StringComparison.Ordinal);
        Assert.Contains("600", warning, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Start_InputWithoutAudio_UnknownWithAWarning()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.Inputs["Webcam"] = ("v4l2_input", [], "Scene");
        var logger = new RecordingLogger<ObsInputMuteWatch>();
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Webcam", logger);
        watch.Start();

        await Poll.UntilAsync(() => logger.Entries.Any(e => e.Level == LogLevel.Warning), "a warning", ct);

        Assert.Equal(ObsMuteState.Unknown, watch.State);
        Assert.Contains("does not support audio", Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning).Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Reconnect_KeepsTheLastStateWhileObsIsDownAndReadsItAgainWhenBack()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic/Aux"] = true;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Mic/Aux", new RecordingLogger<ObsInputMuteWatch>());
        watch.Start();
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Muted, "the first read", ct);

        server.Down = true;
        server.AbortAll();
        await Poll.UntilAsync(() => !client.IsConnected && client.Status.State != ObsConnectionState.Connected, "the client lost OBS", ct);
        Assert.Equal(ObsMuteState.Muted, watch.State); // a privacy mute does not lapse with the connection

        server.InputMuted["Mic/Aux"] = false; // unmuted while the sidecar could not hear about it
        server.Down = false;

        await Poll.UntilAsync(() => watch.State == ObsMuteState.Unmuted, "the state was read again after the reconnect", ct);
        Assert.Equal(2, server.Requests.Count(r => r.Type == "GetInputMute"));
        Assert.Equal(2, client.Status.Connections);
    }

    [Fact(Timeout = 30000)]
    public async Task InputNameChanged_FollowsTheNewName()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeObsServer.StartAsync(ct);
        server.InputMuted["Mic"] = false;
        await using var client = ObsClientTests.NewClient(server.Url, null);
        await using var watch = new ObsInputMuteWatch(client, "Mic", new RecordingLogger<ObsInputMuteWatch>());
        watch.Start();
        await Poll.UntilAsync(() => watch.State == ObsMuteState.Unmuted, "the first read", ct);

        await server.EmitAsync("InputNameChanged", InputsIntent, new JsonObject { ["oldInputName"] = "Mic", ["inputName"] = "Voice" });
        await EmitMuteAsync(server, "Voice", true);

        await Poll.UntilAsync(() => watch.State == ObsMuteState.Muted, "the renamed input's mute was followed", ct);
        Assert.Equal("Voice", watch.InputName);
    }
}
