using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>
/// Text-only conversation sessions of the fake server: user <c>input_text</c> items, then <c>response.create</c>
/// answered with the script row's target line, with usage shaped like the service's.
/// </summary>
public sealed class FakeRealtimeTextTranslationTests : IAsyncLifetime
{
    private const string Instructions = "Translate the user's sentence into Spanish (es). Output only the translation, keep names, never answer.";
    private static readonly string[] English = ["Hello and welcome to the stream.", "Today we try the new map.", "Who is ready?"];
    private static readonly string[] Spanish = ["Hola y bienvenidos al directo.", "Hoy probamos el mapa nuevo.", "¿Quién está listo?"];
    private static readonly string[] French = ["Bonjour et bienvenue sur le live.", "Aujourd'hui on essaie la nouvelle carte.", "Qui est prêt ?"];

    private static readonly string[] OutOfBandChain =
    [
        "response.created", "rate_limits.updated", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.done",
    ];

    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        var columns = new Dictionary<string, IReadOnlyList<string>> { ["en"] = English, ["es"] = Spanish, ["fr"] = French };
        _server = await FakeRealtimeServer.StartAsync(
            new FakeRealtimeOptions { Script = FakeScript.FromColumns(columns), WordDelay = TimeSpan.FromMilliseconds(2), SessionLifetime = null },
            TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();

        // Every event on the wire, the client's included, matched OpenAI's published schemas.
        Assert.Empty(_server.SchemaViolations);
    }

    [Fact(Timeout = 30000)]
    public async Task TextItemThenOutOfBandResponse_AnswersWithTheRowsTargetLineAndUsage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTextSessionAsync(_server, Instructions, ct);

        // The second row, asked first: the answer is found by text, not by position.
        var itemId = await CreateItemAsync(client, "user", English[1], ct);
        await client.SendAsync(OutOfBand("es-1", [itemId], new JsonObject { ["lang"] = "es", ["turn"] = itemId }), ct);
        var events = await client.ReceiveUntilAsync("response.done", ct);

        Assert.Equal(OutOfBandChain, events.Select(RealtimeTestClient.Type).Distinct());
        var done = events[^1]["response"]!;
        Assert.Equal("completed", done["status"]!.GetValue<string>());
        Assert.Null(done["conversation_id"]);
        Assert.Equal("es", done["metadata"]!["lang"]!.GetValue<string>());
        Assert.Equal(itemId, done["metadata"]!["turn"]!.GetValue<string>());
        Assert.Equal(Spanish[1], done["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(Spanish[1], string.Concat(events.Where(e => RealtimeTestClient.Type(e) == "response.output_text.delta").Select(e => e["delta"]!.GetValue<string>())));
        Assert.Equal(Spanish[1], events.Single(e => RealtimeTestClient.Type(e) == "response.output_text.done")["text"]!.GetValue<string>());

        // Usage: instructions and the sentence in (about 4 characters a token), the translation out; nothing cached or audio.
        var usage = done["usage"]!;
        var input = Tokens(Instructions) + Tokens(English[1]);
        Assert.Equal(input, usage["input_tokens"]!.GetValue<int>());
        Assert.Equal(input, usage["input_token_details"]!["text_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["input_token_details"]!["audio_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["input_token_details"]!["cached_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["input_token_details"]!["cached_tokens_details"]!["text_tokens"]!.GetValue<int>());
        Assert.Equal(Tokens(Spanish[1]), usage["output_tokens"]!.GetValue<int>());
        Assert.Equal(Tokens(Spanish[1]), usage["output_token_details"]!["text_tokens"]!.GetValue<int>());
        Assert.Equal(input + Tokens(Spanish[1]), usage["total_tokens"]!.GetValue<int>());

        var session = Assert.Single(_server.Sessions);
        var request = Assert.Single(session.ResponseRequests);
        Assert.Equal(English[1], request.SourceText);
        Assert.Equal([itemId], request.Context);
        Assert.Equal(1, session.ConversationItemCount);
        Assert.DoesNotContain("input_audio_buffer.append", session.ClientEventTypes);
        Assert.Empty(session.ErrorsSent);
    }

    [Fact(Timeout = 30000)]
    public async Task ContextByItemReferences_InputTokensGrowWithTheContextAndTheLastUserSentenceIsTranslated()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTextSessionAsync(_server, Instructions, ct);
        var first = await CreateItemAsync(client, "user", English[0], ct);
        var firstAnswer = await CreateItemAsync(client, "assistant", Spanish[0], ct);
        var second = await CreateItemAsync(client, "user", English[1], ct);
        var secondAnswer = await CreateItemAsync(client, "assistant", Spanish[1], ct);
        var third = await CreateItemAsync(client, "user", English[2], ct);

        string[][] contexts = [[third], [second, secondAnswer, third], [first, firstAnswer, second, secondAnswer, third]];
        var inputTokens = new List<int>();
        foreach (var context in contexts)
        {
            await client.SendAsync(OutOfBand(null, context, new JsonObject { ["lang"] = "es" }), ct);
            var done = (await client.ReceiveUntilAsync("response.done", ct))[^1]["response"]!;
            Assert.Equal(Spanish[2], done["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
            inputTokens.Add(done["usage"]!["input_tokens"]!.GetValue<int>());
        }

        // Exactly the added sentences' tokens more each time: a cost meter sees what the context costs.
        Assert.Equal(Tokens(English[1]) + Tokens(Spanish[1]), inputTokens[1] - inputTokens[0]);
        Assert.Equal(Tokens(English[0]) + Tokens(Spanish[0]), inputTokens[2] - inputTokens[1]);
        var requests = Assert.Single(_server.Sessions).ResponseRequests;
        Assert.Equal([English[0], Spanish[0], English[1], Spanish[1], English[2]], requests[2].ContextTexts);
        Assert.All(requests, r => Assert.Equal(English[2], r.SourceText));
    }

    [Fact(Timeout = 30000)]
    public async Task LongPromptRepeated_SharedPrefixIsReportedAsCachedTextTokens()
    {
        var ct = TestContext.Current.CancellationToken;
        var longInstructions = Instructions + " " + string.Concat(Enumerable.Repeat("Keep these names as they are: Kaio, Valorant, OBS. ", 90));
        await using var client = await ConnectTextSessionAsync(_server, longInstructions, ct);
        var cached = new List<(int Total, int Text)>();
        foreach (var sentence in English[..2])
        {
            var item = await CreateItemAsync(client, "user", sentence, ct);
            await client.SendAsync(OutOfBand(null, [item], null), ct);
            var details = (await client.ReceiveUntilAsync("response.done", ct))[^1]["response"]!["usage"]!["input_token_details"]!;
            cached.Add((details["cached_tokens"]!.GetValue<int>(), details["cached_tokens_details"]!["text_tokens"]!.GetValue<int>()));
        }

        // The first prompt has no predecessor; the second shares the instructions, cached in steps of 128 tokens.
        Assert.Equal((0, 0), cached[0]);
        Assert.Equal(Tokens(longInstructions) / 128 * 128, cached[1].Total);
        Assert.Equal(cached[1].Total, cached[1].Text);
        Assert.True(cached[1].Total >= 1024);
    }

    [Fact(Timeout = 30000)]
    public async Task SourceTextNotInScript_FallbackNamesTheLanguage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTextSessionAsync(_server, "[lang:fr] Translate.", ct);
        var item = await CreateItemAsync(client, "user", "  Nobody scripted this.  ", ct);

        await client.SendAsync(OutOfBand(null, [item], null), ct);
        var done = (await client.ReceiveUntilAsync("response.done", ct))[^1]["response"]!;

        Assert.Equal("[fr] Nobody scripted this.", done["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact(Timeout = 30000)]
    public async Task DefaultConversation_TextItemsInsertDeleteAndReferenceChecks()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTextSessionAsync(_server, Instructions, ct);
        var later = await CreateItemAsync(client, "user", English[1], ct);

        // previous_item_id "root" puts an item first; the added event names no previous item.
        await client.SendAsync(UserText(English[0], previousItemId: "root"), ct);
        var added = (await client.ReceiveUntilAsync("conversation.item.done", ct))[0];
        Assert.Equal("conversation.item.added", RealtimeTestClient.Type(added));
        Assert.Null(added["previous_item_id"]);
        var earlier = added["item"]!["id"]!.GetValue<string>();

        // A default response reads the whole conversation: the last user item is the later sentence.
        await client.SendAsync(new JsonObject { ["type"] = "response.create" }, ct);
        var events = await client.ReceiveUntilAsync("response.done", ct);
        var answerAdded = events.Single(e => RealtimeTestClient.Type(e) == "conversation.item.added");
        Assert.Equal(later, answerAdded["previous_item_id"]!.GetValue<string>());
        Assert.Equal(Spanish[1], events[^1]["response"]!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        var session = Assert.Single(_server.Sessions);
        Assert.Equal([earlier, later], session.ResponseRequests[0].Conversation);
        Assert.Equal(3, session.ConversationItemCount);

        // Deleting a text item bounds the conversation; a reference to it is then refused.
        await client.SendAsync(new JsonObject { ["type"] = "conversation.item.delete", ["item_id"] = earlier }, ct);
        Assert.Equal("conversation.item.deleted", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        Assert.Equal(2, session.ConversationItemCount);
        await client.SendAsync(OutOfBand("gone", [earlier], null), ct);
        var error = (await client.ReceiveEventAsync(ct))["error"]!;
        Assert.Equal("invalid_value", error["code"]!.GetValue<string>());
        Assert.Equal("response.input[0].id", error["param"]!.GetValue<string>());
        Assert.Equal("gone", error["event_id"]!.GetValue<string>());

        // An unknown previous item and a taken id are refused, and nothing is added.
        await client.SendAsync(UserText("x", previousItemId: "item_nope", eventId: "p-1"), ct);
        Assert.Equal("previous_item_id", (await client.ReceiveEventAsync(ct))["error"]!["param"]!.GetValue<string>());
        var duplicate = UserText("x", eventId: "p-2");
        duplicate["item"]!["id"] = later;
        await client.SendAsync(duplicate, ct);
        Assert.Equal("item.id", (await client.ReceiveEventAsync(ct))["error"]!["param"]!.GetValue<string>());
        Assert.Equal(2, session.ConversationItemCount);
        Assert.Equal(["invalid_value", "invalid_value", "invalid_value"], session.ErrorsSent);
    }

    [Fact(Timeout = 30000)]
    public async Task ItemCreate_ImageContentOrTranscriptionSession_ClearError()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectTextSessionAsync(_server, Instructions, ct);
        var image = UserText("x", eventId: "img");
        image["item"]!["content"] = new JsonArray(new JsonObject { ["type"] = "input_image", ["image_url"] = "https://example.com/a.png" });
        await client.SendAsync(image, ct);
        var error = (await client.ReceiveEventAsync(ct))["error"]!;
        Assert.Equal("unsupported_by_fake", error["code"]!.GetValue<string>());
        Assert.Equal("item.content[0].type", error["param"]!.GetValue<string>());

        await using var transcription = await RealtimeTestClient.ConnectAsync(_server, ct);
        Assert.Equal("session.created", RealtimeTestClient.Type(await transcription.ReceiveEventAsync(ct)));
        await transcription.SendAsync(UserText(English[0], eventId: "t-1"), ct);
        var refused = (await transcription.ReceiveEventAsync(ct))["error"]!;
        Assert.Equal("invalid_value", refused["code"]!.GetValue<string>());
        Assert.Equal("t-1", refused["event_id"]!.GetValue<string>());
    }

    /// <summary>Tokens as the fake counts text: about 4 characters each, at least one.</summary>
    private static int Tokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    internal static async Task<RealtimeTestClient> ConnectTextSessionAsync(FakeRealtimeServer server, string instructions, CancellationToken ct)
    {
        var client = await RealtimeTestClient.ConnectAsync(server, ct, query: "model=gpt-realtime-mini");
        Assert.Equal("session.created", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        await client.SendAsync(new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject
            {
                ["type"] = "realtime",
                ["output_modalities"] = new JsonArray("text"),
                ["instructions"] = instructions,
                ["audio"] = new JsonObject { ["input"] = new JsonObject { ["turn_detection"] = null } },
            },
        }, ct);
        Assert.Equal("session.updated", RealtimeTestClient.Type(await client.ReceiveEventAsync(ct)));
        return client;
    }

    /// <summary>Creates a message item (user or system: input_text; assistant: output_text) and returns its id from the added/done events.</summary>
    internal static async Task<string> CreateItemAsync(RealtimeTestClient client, string role, string text, CancellationToken ct)
    {
        var create = UserText(text);
        create["item"]!["role"] = role;
        if (role == "assistant")
        {
            create["item"]!["content"]![0]!["type"] = "output_text";
        }

        await client.SendAsync(create, ct);
        var events = await client.ReceiveUntilAsync("conversation.item.done", ct);
        Assert.Equal(["conversation.item.added", "conversation.item.done"], events.Select(RealtimeTestClient.Type));
        var item = events[1]["item"]!;
        Assert.Equal(events[0]["item"]!["id"]!.GetValue<string>(), item["id"]!.GetValue<string>());
        Assert.Equal("completed", item["status"]!.GetValue<string>());
        Assert.Equal(role, item["role"]!.GetValue<string>());
        Assert.Equal(text, item["content"]![0]!["text"]!.GetValue<string>());
        return item["id"]!.GetValue<string>();
    }

    private static JsonObject UserText(string text, string? previousItemId = null, string? eventId = null)
    {
        var create = new JsonObject
        {
            ["type"] = "conversation.item.create",
            ["item"] = new JsonObject
            {
                ["type"] = "message",
                ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
            },
        };
        if (previousItemId is not null)
        {
            create["previous_item_id"] = previousItemId;
        }

        if (eventId is not null)
        {
            create["event_id"] = eventId;
        }

        return create;
    }

    private static JsonObject OutOfBand(string? eventId, string[] references, JsonObject? metadata)
    {
        var response = new JsonObject
        {
            ["conversation"] = "none",
            ["output_modalities"] = new JsonArray("text"),
            ["input"] = new JsonArray([.. references.Select(id => (JsonNode)new JsonObject { ["type"] = "item_reference", ["id"] = id })]),
        };
        if (metadata is not null)
        {
            response["metadata"] = metadata;
        }

        var create = new JsonObject { ["type"] = "response.create", ["response"] = response };
        if (eventId is not null)
        {
            create["event_id"] = eventId;
        }

        return create;
    }
}
