using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>Conversation sessions of the fake server: text-only responses that answer each turn with the target language's script line.</summary>
public sealed class FakeRealtimeConversationTests : IAsyncLifetime
{
    private static readonly string[] English = ["Hello and welcome to the stream.", "Today we try the new map."];
    private static readonly string[] Spanish = ["Hola y bienvenidos al directo.", "Hoy probamos el   mapa nuevo."];
    private static readonly string[] French = ["Bonjour et bienvenue sur le live.", "Aujourd'hui on essaie la nouvelle carte."];

    private static readonly string[] ResponseChain =
    [
        "response.created", "response.output_item.added", "conversation.item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "conversation.item.done", "response.done",
    ];

    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await StartAsync(TimeProvider.System, TimeSpan.FromMilliseconds(5));

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();

        // Some tests send broken client events on purpose; whatever the fake answered must match the service's schemas.
        Assert.DoesNotContain(_server.SchemaViolations, v => v.Contains(": server event", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task Vad_TwoToneTurnsWithCreateResponse_AnswersWithTargetColumnLinesInGaOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(_server, "Translate the streamer's speech into es. Output only the translation.", VadWithCreateResponse(), ct);

        await client.AppendAudioAsync(Pcm16.Concat(Pcm16.Silence(300), Pcm16.Tone(800), Pcm16.Silence(600), Pcm16.Tone(800), Pcm16.Silence(1000)), ct);
        var events = await client.ReceiveUntilAsync("response.done", ct, count: 2);

        var responseIds = events.Where(e => RealtimeTestClient.Type(e) == "response.created").Select(e => e["response"]!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, responseIds.Count);
        Assert.Equal(2, events.Count(e => RealtimeTestClient.Type(e) == "rate_limits.updated"));
        for (var turn = 0; turn < 2; turn++)
        {
            var chain = EventsOf(events, responseIds[turn]);
            var types = chain.Select(RealtimeTestClient.Type).Distinct().ToList();
            Assert.Equal(ResponseChain, types);
            Assert.Equal(Spanish[turn], TextOf(chain));

            var created = chain[0]["response"]!;
            Assert.Equal("in_progress", created["status"]!.GetValue<string>());
            Assert.StartsWith("conv_", created["conversation_id"]!.GetValue<string>(), StringComparison.Ordinal);
            var done = chain[^1]["response"]!;
            Assert.Equal("completed", done["status"]!.GetValue<string>());
            Assert.Equal(Spanish[turn], done["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
            Assert.InRange(done["usage"]!["output_tokens"]!.GetValue<int>(), 1, 100);
            Assert.True(done["usage"]!["total_tokens"]!.GetValue<int>() > done["usage"]!["output_tokens"]!.GetValue<int>());
        }

        // The user turn comes before its answer: committed, user item, then the response.
        var firstCommit = events.FindIndex(e => RealtimeTestClient.Type(e) == "input_audio_buffer.committed");
        Assert.True(firstCommit >= 0 && firstCommit < events.FindIndex(e => RealtimeTestClient.Type(e) == "response.created"));
        Assert.Equal(4, Assert.Single(_server.Sessions).ConversationItemCount);
    }

    [Fact(Timeout = 30000)]
    public async Task ResponseCreate_ConversationNoneTwiceInParallel_BothAnswerWithNullConversationAndEchoedMetadata()
    {
        var ct = TestContext.Current.CancellationToken;
        // Words a quarter second apart: both requests are read long before the first answer could finish.
        await using var server = await StartAsync(TimeProvider.System, TimeSpan.FromMilliseconds(250));
        await using var client = await ConnectConversationAsync(server, "Translate the referenced speech.", null, ct);

        await client.SendAsync(OutOfBand("fr-1", "Translate into French. [lang:fr]", "fr"), ct);
        await client.SendAsync(OutOfBand("es-1", "Translate into Spanish. [lang:es]", "es"), ct);
        var events = await client.ReceiveUntilAsync("response.done", ct, count: 2);

        // Both were created before either finished: they ran side by side.
        var lastCreated = events.FindLastIndex(e => RealtimeTestClient.Type(e) == "response.created");
        Assert.True(lastCreated < events.FindIndex(e => RealtimeTestClient.Type(e) == "response.done"));
        Assert.DoesNotContain(events, e => RealtimeTestClient.Type(e) == "error");
        foreach (var (lang, line) in new[] { ("fr", French[0]), ("es", Spanish[0]) })
        {
            var created = events.Single(e => RealtimeTestClient.Type(e) == "response.created" && e["response"]!["metadata"]!["lang"]!.GetValue<string>() == lang);
            var id = created["response"]!["id"]!.GetValue<string>();
            var chain = EventsOf(events, id);
            Assert.DoesNotContain(chain, e => RealtimeTestClient.Type(e)!.StartsWith("conversation.item", StringComparison.Ordinal));
            Assert.Equal(line, TextOf(chain));
            var done = chain[^1]["response"]!;
            Assert.Null(created["response"]!["conversation_id"]);
            Assert.Null(done["conversation_id"]);
            Assert.Equal(lang, done["metadata"]!["lang"]!.GetValue<string>());
            Assert.Equal(lang + "-turn", done["metadata"]!["turn"]!.GetValue<string>());
        }

        Assert.Equal(0, Assert.Single(server.Sessions).ConversationItemCount);
    }

    [Fact(Timeout = 30000)]
    public async Task ResponseCreate_SecondDefaultWhileOneActive_ErrorThenCancelFreesTheConversation()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await StartAsync(new FakeTimeProvider(), TimeSpan.FromSeconds(1));
        await using var client = await ConnectConversationAsync(server, "Translate into fr.", null, ct);

        await client.SendAsync(new JsonObject { ["type"] = "response.create", ["event_id"] = "first" }, ct);
        await client.SendAsync(new JsonObject { ["type"] = "response.create", ["event_id"] = "second" }, ct);
        var events = await client.ReceiveUntilAsync("error", ct);
        var activeId = Assert.Single(events, e => RealtimeTestClient.Type(e) == "response.created")["response"]!["id"]!.GetValue<string>();
        var error = events[^1]["error"]!;
        Assert.Equal("conversation_already_has_active_response", error["code"]!.GetValue<string>());
        Assert.Equal("second", error["event_id"]!.GetValue<string>());
        Assert.Contains(activeId, error["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // The fake clock never moves, so the first response is still active until it is cancelled.
        await client.SendAsync(new JsonObject { ["type"] = "response.cancel" }, ct);
        events = await client.ReceiveUntilAsync("response.done", ct);
        var done = events[^1]["response"]!;
        Assert.Equal(activeId, done["id"]!.GetValue<string>());
        Assert.Equal("cancelled", done["status"]!.GetValue<string>());
        Assert.Equal("client_cancelled", done["status_details"]!["reason"]!.GetValue<string>());
        Assert.Equal("incomplete", done["output"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("", Assert.Single(events, e => RealtimeTestClient.Type(e) == "response.output_text.done")["text"]!.GetValue<string>());

        await client.SendAsync(new JsonObject { ["type"] = "response.create", ["event_id"] = "third" }, ct);
        var next = await client.ReceiveUntilAsync("response.created", ct);
        Assert.DoesNotContain(next, e => RealtimeTestClient.Type(e) == "error");
        Assert.Equal(["conversation_already_has_active_response"], Assert.Single(server.Sessions).ErrorsSent);
    }

    [Fact(Timeout = 30000)]
    public async Task ResponseCancel_NothingActive_ResponseCancelNotActiveAndSessionContinues()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(_server, "Translate into es.", null, ct);

        await client.SendAsync(new JsonObject { ["type"] = "response.cancel", ["event_id"] = "c-1" }, ct);
        var error = await client.ReceiveEventAsync(ct);

        Assert.Equal("error", RealtimeTestClient.Type(error));
        Assert.Equal("response_cancel_not_active", error["error"]!["code"]!.GetValue<string>());
        Assert.Equal("c-1", error["error"]!["event_id"]!.GetValue<string>());
        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        var events = await client.ReceiveUntilAsync("response.done", ct);
        Assert.Equal(Spanish[0], TextOf(events));
    }

    [Fact(Timeout = 30000)]
    public async Task ItemDelete_UserAndAssistantItems_CountFollowsDeletionsAndUnknownIdIsAnError()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(_server, "Translate into es.", null, ct);
        var userItems = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            await client.AppendAudioAsync(Pcm16.Tone(200), ct);
            await client.SendAsync(new JsonObject { ["type"] = "input_audio_buffer.commit" }, ct);
            var committed = (await client.ReceiveUntilAsync("conversation.item.done", ct))[^1];
            userItems.Add(committed["item"]!["id"]!.GetValue<string>());
        }

        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        var answer = (await client.ReceiveUntilAsync("response.done", ct))[^1];
        var assistantItem = answer["response"]!["output"]![0]!["id"]!.GetValue<string>();
        var session = Assert.Single(_server.Sessions);
        Assert.Equal(3, session.ConversationItemCount);

        foreach (var itemId in new[] { userItems[0], assistantItem })
        {
            await client.SendAsync(new JsonObject { ["type"] = "conversation.item.delete", ["item_id"] = itemId }, ct);
            var deleted = await client.ReceiveEventAsync(ct);
            Assert.Equal("conversation.item.deleted", RealtimeTestClient.Type(deleted));
            Assert.Equal(itemId, deleted["item_id"]!.GetValue<string>());
        }

        Assert.Equal(1, session.ConversationItemCount);
        await client.SendAsync(new JsonObject { ["type"] = "conversation.item.delete", ["event_id"] = "d-9", ["item_id"] = userItems[0] }, ct);
        var error = (await client.ReceiveEventAsync(ct))["error"]!;
        Assert.Equal("invalid_value", error["code"]!.GetValue<string>());
        Assert.Equal("item_id", error["param"]!.GetValue<string>());
        Assert.Equal("d-9", error["event_id"]!.GetValue<string>());
        Assert.Equal(1, session.ConversationItemCount);
    }

    [Fact(Timeout = 30000)]
    public async Task Reconnect_SameTargetLanguage_ContinuesTheColumnAndOldSessionIsClosed()
    {
        var ct = TestContext.Current.CancellationToken;
        var texts = new List<string>();
        foreach (var instructions in new[] { "[lang:fr] Translate.", "Translate into fr." })
        {
            await using var client = await ConnectConversationAsync(_server, instructions, null, ct);
            await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
            texts.Add(TextOf(await client.ReceiveUntilAsync("response.done", ct)));
            await client.CloseAsync(ct);
            Assert.Null(await client.ReceiveTextAsync(ct));
        }

        Assert.Equal(French, texts);
        await _server.WaitForSessionsAsync(sessions => sessions.Count == 2 && sessions.All(s => !s.IsOpen), TimeSpan.FromSeconds(10));
    }

    [Fact(Timeout = 30000)]
    public async Task ResponseCreate_NoLanguageInInstructions_FirstTargetColumn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(_server, "You are a careful translator.", null, ct);

        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);

        Assert.Equal(Spanish[0], TextOf(await client.ReceiveUntilAsync("response.done", ct)));
    }

    [Fact(Timeout = 30000)]
    public async Task Transcription_ColumnScript_TakesTheSourceColumnBesideConversationSessions()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var conversation = await ConnectConversationAsync(_server, "Translate into fr.", null, ct);
        await conversation.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        Assert.Equal(French[0], TextOf(await conversation.ReceiveUntilAsync("response.done", ct)));

        await using var transcription = await RealtimeTestClient.ConnectAsync(_server, ct);
        Assert.Equal("session.created", RealtimeTestClient.Type(await transcription.ReceiveEventAsync(ct)));
        await transcription.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "transcription",
                ["audio"] = new JsonObject { ["input"] = new JsonObject { ["transcription"] = new JsonObject { ["model"] = "gpt-4o-transcribe" } } },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await transcription.ReceiveEventAsync(ct)));
        await transcription.AppendAudioAsync(Pcm16.Concat(Pcm16.Silence(300), Pcm16.Tone(800), Pcm16.Silence(1000)), ct);

        var completed = (await transcription.ReceiveUntilAsync("conversation.item.input_audio_transcription.completed", ct))[^1];
        Assert.Equal(English[0], completed["transcript"]!.GetValue<string>());
        Assert.DoesNotContain(_server.Sessions, s => s.SessionType == FakeSessionType.Transcription && s.ConversationItemCount != 0);
    }

    [Fact]
    public void FromFile_TabSeparatedColumns_SourceFirstAndTargetsAfter()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fake-script-{Guid.NewGuid():N}.tsv");
        File.WriteAllLines(path, ["en\tes\tfr", "Hello.\tHola.\tBonjour.", "Bye.\tAdiós.\tSalut."]);
        try
        {
            var script = FakeScript.FromFile(path);

            Assert.Equal(["en", "es", "fr"], script.Languages);
            Assert.Equal(["Hello.", "Bye."], script.Lines);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Task<FakeRealtimeServer> StartAsync(TimeProvider clock, TimeSpan wordDelay)
    {
        var columns = new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish, ["fr"] = French };
        return FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromColumns(columns), WordDelay = wordDelay, TimeProvider = clock, SessionLifetime = null },
            TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 30000)]
    public async Task ResponseCreate_InstructionsNamingTheLanguageInParentheses_AnswersFromThatColumn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectConversationAsync(_server, "Translate everything the speaker says into French (fr).\nRules: output only the translation.", null, ct);

        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        var events = await client.ReceiveUntilAsync("response.done", ct);

        Assert.Equal(French[0], events[^1]["response"]!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("fr", Assert.Single(_server.Sessions).TargetLanguage);
    }

    [Fact(Timeout = 30000)]
    public async Task StallLanguage_ThatLanguagesSessionReadsNothingUntilResumed_OthersAnswer()
    {
        var ct = TestContext.Current.CancellationToken;
        _server.Faults.StallLanguage("es");
        await using var spanish = await ConnectConversationAsync(_server, "Translate into Spanish (es).", null, ct);
        await using var french = await ConnectConversationAsync(_server, "Translate into French (fr).", null, ct);

        await spanish.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        await french.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        var frenchEvents = await french.ReceiveUntilAsync("response.done", ct);

        var stalled = _server.Sessions.Single(s => s.TargetLanguage == "es");
        Assert.DoesNotContain("response.create", stalled.ClientEventTypes);
        Assert.True(stalled.IsOpen);
        Assert.Equal(French[0], frenchEvents[^1]["response"]!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());

        _server.Faults.ResumeLanguage("es");
        var spanishEvents = await spanish.ReceiveUntilAsync("response.done", ct);

        Assert.Equal(Spanish[0], spanishEvents[^1]["response"]!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
    }

    private static async Task<RealtimeTestClient> ConnectConversationAsync(FakeRealtimeServer server, string instructions, JsonObject? turnDetection, CancellationToken ct)
    {
        var client = await RealtimeTestClient.ConnectAsync(server, ct, query: "model=gpt-realtime");
        Assert.Equal("session.created", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "realtime",
                ["output_modalities"] = new JsonArray("text"),
                ["instructions"] = instructions,
                ["audio"] = new JsonObject { ["input"] = new JsonObject { ["turn_detection"] = turnDetection } },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        return client;
    }

    private static JsonObject VadWithCreateResponse() => new() { ["type"] = "server_vad", ["create_response"] = true };

    private static JsonObject OutOfBand(string eventId, string instructions, string lang) => new()
    {
        ["type"] = "response.create",
        ["event_id"] = eventId,
        ["response"] = new JsonObject
        {
            ["conversation"] = "none",
            ["output_modalities"] = new JsonArray("text"),
            ["instructions"] = instructions,
            ["input"] = new JsonArray(),
            ["metadata"] = new JsonObject { ["lang"] = lang, ["turn"] = lang + "-turn" },
        },
    };

    /// <summary>The events of one response (by response id, or by its item for conversation.item.*), in arrival order.</summary>
    private static List<JsonObject> EventsOf(List<JsonObject> events, string responseId)
    {
        var itemId = events.First(e => RealtimeTestClient.Type(e) == "response.output_item.added" && e["response_id"]!.GetValue<string>() == responseId)["item"]!["id"]!.GetValue<string>();
        return [.. events.Where(e =>
            e["response"]?["id"]?.GetValue<string>() == responseId
            || e["response_id"]?.GetValue<string>() == responseId
            || (RealtimeTestClient.Type(e)!.StartsWith("conversation.item", StringComparison.Ordinal) && e["item"]?["id"]?.GetValue<string>() == itemId))];
    }

    /// <summary>The concatenated deltas, checked against output_text.done and content_part.done.</summary>
    private static string TextOf(List<JsonObject> events)
    {
        var deltas = string.Concat(events.Where(e => RealtimeTestClient.Type(e) == "response.output_text.delta").Select(e => e["delta"]!.GetValue<string>()));
        Assert.Equal(deltas, events.Single(e => RealtimeTestClient.Type(e) == "response.output_text.done")["text"]!.GetValue<string>());
        Assert.Equal(deltas, events.Single(e => RealtimeTestClient.Type(e) == "response.content_part.done")["part"]!["text"]!.GetValue<string>());
        return deltas;
    }
}
