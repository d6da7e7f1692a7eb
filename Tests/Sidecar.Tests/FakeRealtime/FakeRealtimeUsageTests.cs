using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>
/// The fake's <c>usage</c> counts audio the way the service does: 10 audio tokens a second of committed audio, in the
/// transcription of a turn and again in every response whose context holds the turn (minus the cached prefix).
/// </summary>
public sealed class FakeRealtimeUsageTests : IAsyncLifetime
{
    private const string Instructions = "Translate the streamer's speech into Spanish (es). Output only the translation.";
    private static readonly string[] English = ["Hello and welcome to the stream.", "Today we try the new map.", "Who is ready?"];
    private static readonly string[] Spanish = ["Hola y bienvenidos al directo.", "Hoy probamos el mapa nuevo.", "¿Quién está listo?"];

    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        var columns = new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish };
        _server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromColumns(columns), WordDelay = TimeSpan.FromMilliseconds(2), SessionLifetime = null },
            TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        Assert.Empty(_server.SchemaViolations);
    }

    [Fact(Timeout = 30000)]
    public async Task TranscriptionTurns_AudioTokensFollowTheCommittedAudio_PromptBilledAsText()
    {
        var ct = TestContext.Current.CancellationToken;
        const string Prompt = "Gaming stream. Names: Ana, Kubernetes.\nSpeaker: Host.";
        await using var client = await ConnectTranscriptionAsync("gpt-4o-transcribe", Prompt, ct);

        // A 1 s turn, then a 4 s turn: the second costs 30 tokens more.
        await client.AppendAudioAsync(Pcm16.Concat(Pcm16.Silence(300), Pcm16.Tone(1000), Pcm16.Silence(1000)), ct);
        var first = (await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct))[^1]["usage"]!;
        await client.AppendAudioAsync(Pcm16.Concat(Pcm16.Tone(4000), Pcm16.Silence(1000)), ct);
        var second = (await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct))[^1]["usage"]!;

        var session = Assert.Single(_server.Sessions);
        var committed = session.CommittedAudio;
        Assert.Equal(2, committed.Count);
        Assert.Equal([first.ToJsonString(), second.ToJsonString()], session.UsageSent);

        // The committed item holds the 300 ms prefix padding, the speech and the 500 ms of silence that ended it.
        Assert.InRange(committed[0].TotalMilliseconds, 1750, 1850);
        Assert.Equal(30, Int(second, "input_token_details", "audio_tokens") - Int(first, "input_token_details", "audio_tokens"));
        foreach (var (usage, audio, line) in new[] { (first, committed[0], English[0]), (second, committed[1], English[1]) })
        {
            Assert.Equal("tokens", usage["type"]!.GetValue<string>());
            var audioTokens = (int)audio.TotalMilliseconds / 100;
            Assert.Equal(audioTokens, Int(usage, "input_token_details", "audio_tokens"));
            Assert.Equal(Tokens(Prompt), Int(usage, "input_token_details", "text_tokens"));
            Assert.Equal(audioTokens + Tokens(Prompt), Int(usage, "input_tokens"));
            Assert.Equal(Tokens(line), Int(usage, "output_tokens"));
            Assert.Equal(audioTokens + Tokens(Prompt) + Tokens(line), Int(usage, "total_tokens"));
        }
    }

    [Fact(Timeout = 30000)]
    public async Task TranscriptionTurn_Whisper1_UsageIsTheDurationOfTheCommittedAudio()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTranscriptionAsync("whisper-1", null, ct);

        await client.AppendAudioAsync(Pcm16.Concat(Pcm16.Silence(300), Pcm16.Tone(2000), Pcm16.Silence(1000)), ct);
        var usage = (await client.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct))[^1]["usage"]!;

        Assert.Equal("duration", usage["type"]!.GetValue<string>());
        var committed = Assert.Single(Assert.Single(_server.Sessions).CommittedAudio);
        Assert.Equal(committed.TotalSeconds, usage["seconds"]!.GetValue<double>(), 3);
        Assert.Null(usage["input_tokens"]);
    }

    [Fact(Timeout = 30000)]
    public async Task AudioConversation_EachResponseBillsTheAudioOfEveryTurnInItsContextAgain_AnswersAsText()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(ct);

        var first = await SpeakAndRespondAsync(client, 2000, ct);
        var second = await SpeakAndRespondAsync(client, 3000, ct);
        Assert.Equal([first.ToJsonString(), second.ToJsonString()], Assert.Single(_server.Sessions).UsageSent);

        // The whole conversation is the context: turn 1, then turn 1, its answer and turn 2.
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], Assert.Single(_server.Sessions).CommittedAudio);
        Assert.Equal(20, Int(first, "input_token_details", "audio_tokens"));
        Assert.Equal(Tokens(Instructions), Int(first, "input_token_details", "text_tokens"));
        Assert.Equal(20 + 30, Int(second, "input_token_details", "audio_tokens"));
        Assert.Equal(Tokens(Instructions) + Tokens(Spanish[0]), Int(second, "input_token_details", "text_tokens"));
        Assert.Equal(50 + Tokens(Instructions) + Tokens(Spanish[0]), Int(second, "input_tokens"));
        Assert.Equal(Tokens(Spanish[1]), Int(second, "output_tokens"));

        // Prompts under 1,024 tokens are never cached.
        Assert.Equal(0, Int(first, "input_token_details", "cached_tokens") + Int(second, "input_token_details", "cached_tokens"));
    }

    [Fact(Timeout = 30000)]
    public async Task AudioConversation_LongContext_PrefixSharedWithThePreviousResponseIsCachedIn128TokenSteps()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(ct);

        // Minute-long turns: 600 audio tokens each.
        var first = await SpeakAndRespondAsync(client, 60_000, ct);
        var second = await SpeakAndRespondAsync(client, 60_000, ct);
        var third = await SpeakAndRespondAsync(client, 60_000, ct);

        Assert.Equal(0, Int(first, "input_token_details", "cached_tokens"));

        // The second prompt shares instructions and turn 1 with the first: under 1,024 tokens, so nothing is cached.
        Assert.Equal(1200, Int(second, "input_token_details", "audio_tokens"));
        Assert.Equal(0, Int(second, "input_token_details", "cached_tokens"));

        // The third shares instructions, turn 1, answer 1 and turn 2 with the second.
        var shared = Tokens(Instructions) + 600 + Tokens(Spanish[0]) + 600;
        var cached = shared / 128 * 128;
        Assert.Equal(1800, Int(third, "input_token_details", "audio_tokens"));
        Assert.Equal(cached, Int(third, "input_token_details", "cached_tokens"));
        Assert.Equal(Tokens(Instructions) + Tokens(Spanish[0]), Int(third, "input_token_details", "cached_tokens_details", "text_tokens"));
        Assert.Equal(cached - Tokens(Instructions) - Tokens(Spanish[0]), Int(third, "input_token_details", "cached_tokens_details", "audio_tokens"));
    }

    private static int Tokens(string text) => (text.Length + 3) / 4;

    private static int Int(JsonNode node, params string[] path) => path.Aggregate(node, (n, key) => n[key]!).GetValue<int>();

    /// <summary>Appends <paramref name="ms"/> of audio, commits it and asks for a response over the whole conversation; returns its usage.</summary>
    private static async Task<JsonNode> SpeakAndRespondAsync(RealtimeTestClient client, int ms, CancellationToken ct)
    {
        await client.AppendAudioAsync(Pcm16.Tone(ms), ct);
        await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit" }, ct);
        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        return (await client.ReceiveUntilAsync("response.done", ct))[^1]["response"]!["usage"]!;
    }

    private async Task<RealtimeTestClient> ConnectConversationAsync(CancellationToken ct)
    {
        var client = await RealtimeTestClient.ConnectAsync(_server, ct, query: "model=gpt-realtime");
        Assert.Equal("session.created", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "realtime",
                ["output_modalities"] = new JsonArray("text"),
                ["instructions"] = Instructions,
                ["audio"] = new JsonObject { ["input"] = new JsonObject { ["turn_detection"] = null } },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        return client;
    }

    private async Task<RealtimeTestClient> ConnectTranscriptionAsync(string model, string? prompt, CancellationToken ct)
    {
        var client = await RealtimeTestClient.ConnectAsync(_server, ct);
        Assert.Equal("session.created", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        var transcription = new JsonObject { ["model"] = model, ["language"] = "en" };
        if (prompt is not null)
        {
            transcription["prompt"] = prompt;
        }

        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "transcription",
                ["audio"] = new JsonObject { ["input"] = new JsonObject { ["transcription"] = transcription } },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        return client;
    }
}
