using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>An <c>error</c> event's payload: the client did something the real service rejects.</summary>
internal sealed record ProtocolError(string Code, string Message, string? Param = null, string Type = "invalid_request_error");

/// <summary>The turn detection the input audio buffer runs, derived from <c>audio.input.turn_detection</c>.</summary>
internal sealed record TurnDetection(int PrefixPaddingMs, int SilenceDurationMs);

/// <summary>
/// The effective session configuration (GA shape) of one session: defaults like the real service's
/// <c>session.created</c>, validation of <c>session.update</c> (all checks before any change), and merging.
/// </summary>
internal sealed class SessionConfiguration
{
    private const int MaxPromptLength = 1024;
    private static readonly string[] TranscriptionKeys = ["type", "audio", "include"];
    private static readonly string[] RealtimeKeys =
        ["type", "model", "output_modalities", "instructions", "max_output_tokens", "audio", "include", "tools",
         "tool_choice", "prompt", "tracing", "truncation"];
    private static readonly string[] InputKeys = ["format", "noise_reduction", "transcription", "turn_detection"];
    private static readonly string[] TranscriptionSettingKeys = ["model", "language", "prompt", "delay", "keywords", "languages"];

    private readonly JsonObject _current;

    public SessionConfiguration(FakeSessionType type, string id, string? model, long expiresAt)
    {
        Type = type;
        _current = type == FakeSessionType.Transcription ? TranscriptionDefaults(id, expiresAt) : RealtimeDefaults(id, model, expiresAt);
    }

    public FakeSessionType Type { get; }

    public string TypeName => Type == FakeSessionType.Transcription ? "transcription" : "realtime";

    /// <summary>A copy of the full effective configuration, as sent in session.created/updated.</summary>
    public JsonObject Snapshot() => (JsonObject)_current.DeepClone();

    /// <summary>Null when turn_detection is null (manual commits).</summary>
    public TurnDetection? TurnDetection
    {
        get
        {
            if (Input["turn_detection"] is not JsonObject td)
            {
                return null;
            }

            // semantic_vad decides by meaning; the fake approximates it with the documented server_vad defaults.
            return td["type"]?.GetValue<string>() == "semantic_vad"
                ? new TurnDetection(300, 500)
                : new TurnDetection(td["prefix_padding_ms"]?.GetValue<int>() ?? 300, td["silence_duration_ms"]?.GetValue<int>() ?? 500);
        }
    }

    /// <summary>True when input transcription is configured (<c>audio.input.transcription</c> not null).</summary>
    public bool TranscriptionEnabled => Input["transcription"] is JsonObject;

    /// <summary>The input transcription's <c>prompt</c>, null when transcription is off or has no prompt.</summary>
    public string? TranscriptionPrompt => Input["transcription"] is JsonObject t ? StringOf(t["prompt"]) : null;

    /// <summary>The input transcription's <c>model</c>, null when transcription is off or names no model.</summary>
    public string? TranscriptionModel => Input["transcription"] is JsonObject t ? StringOf(t["model"]) : null;

    /// <summary>The input transcription's <c>language</c>, null when transcription is off or has no language.</summary>
    public string? TranscriptionLanguage => Input["transcription"] is JsonObject t ? StringOf(t["language"]) : null;

    /// <summary>True when turn detection is on and asks for a response after each detected turn (<c>create_response</c>, default true).</summary>
    public bool CreateResponse =>
        Input["turn_detection"] is JsonObject td && (td["create_response"] is not JsonValue value || !value.TryGetValue<bool>(out var create) || create);

    /// <summary>The session's <c>instructions</c> (empty when none).</summary>
    public string Instructions => StringOf(_current["instructions"]) ?? "";

    /// <summary>The session's <c>output_modalities</c> (null for a transcription session).</summary>
    public JsonArray? OutputModalities => _current["output_modalities"] as JsonArray;

    private JsonObject Input => (JsonObject)((JsonObject)_current["audio"]!)["input"]!;

    /// <summary>Validates and merges a GA <c>session.update</c> <c>session</c> object; nothing changes on error.</summary>
    public ProtocolError? Apply(JsonNode? session)
    {
        if (session is not JsonObject update)
        {
            return new ProtocolError("missing_required_parameter", "Missing required parameter: 'session'.", "session");
        }

        var error = ValidateType(update) ?? ValidateKeys(update, Type == FakeSessionType.Transcription ? TranscriptionKeys : RealtimeKeys, "session")
            ?? ValidateModel(update) ?? ValidateAudio(update["audio"]) ?? ValidateInclude(update["include"]);
        if (error is not null)
        {
            return error;
        }

        foreach (var (key, value) in update)
        {
            if (key == "audio")
            {
                MergeAudio((JsonObject)value!);
            }
            else
            {
                _current[key] = value?.DeepClone();
            }
        }

        return null;
    }

    /// <summary>Validates and merges a beta <c>transcription_session.update</c> by mapping it to the GA shape.</summary>
    public ProtocolError? ApplyBeta(JsonNode? session)
    {
        if (Type != FakeSessionType.Transcription)
        {
            return new ProtocolError("invalid_value", "Invalid value: 'transcription_session.update'. This is a realtime session; use session.update.", "type");
        }

        if (session is not JsonObject beta)
        {
            return new ProtocolError("missing_required_parameter", "Missing required parameter: 'session'.", "session");
        }

        var error = ValidateKeys(beta, ["input_audio_format", "input_audio_transcription", "turn_detection", "input_audio_noise_reduction", "include"], "session");
        if (error is not null)
        {
            return error;
        }

        if (beta["input_audio_format"] is { } format && StringOf(format) != "pcm16")
        {
            return new ProtocolError("invalid_value", $"Invalid value: '{format.ToJsonString()}'. The fake server supports only 'pcm16' (24 kHz).", "session.input_audio_format");
        }

        var input = new JsonObject();
        Copy(beta, "input_audio_transcription", input, "transcription");
        Copy(beta, "turn_detection", input, "turn_detection");
        Copy(beta, "input_audio_noise_reduction", input, "noise_reduction");
        var ga = new JsonObject { ["type"] = "transcription", ["audio"] = new JsonObject { ["input"] = input } };
        Copy(beta, "include", ga, "include");
        return Apply(ga);
    }

    /// <summary>The effective configuration in the beta transcription-session shape.</summary>
    public JsonObject BetaSnapshot() => new()
    {
        ["id"] = _current["id"]?.DeepClone(),
        ["object"] = "realtime.transcription_session",
        ["expires_at"] = _current["expires_at"]?.DeepClone(),
        ["input_audio_format"] = "pcm16",
        ["input_audio_transcription"] = Input["transcription"]?.DeepClone(),
        ["turn_detection"] = Input["turn_detection"]?.DeepClone(),
        ["input_audio_noise_reduction"] = Input["noise_reduction"]?.DeepClone(),
        ["include"] = _current["include"]?.DeepClone(),
    };

    private static void Copy(JsonObject from, string fromKey, JsonObject to, string toKey)
    {
        if (from.TryGetPropertyValue(fromKey, out var value))
        {
            to[toKey] = value?.DeepClone();
        }
    }

    private void MergeAudio(JsonObject audio)
    {
        var current = (JsonObject)_current["audio"]!;
        foreach (var (direction, value) in audio)
        {
            var target = current[direction] as JsonObject ?? [];
            current[direction] = target;
            foreach (var (key, setting) in (JsonObject)value!)
            {
                target[key] = direction == "input" && key == "turn_detection" ? WithTurnDetectionDefaults(setting) : setting?.DeepClone();
            }
        }
    }

    private static JsonNode? WithTurnDetectionDefaults(JsonNode? setting)
    {
        if (setting is not JsonObject given)
        {
            return null;
        }

        var filled = given["type"]!.GetValue<string>() == "semantic_vad"
            ? new JsonObject { ["type"] = "semantic_vad", ["eagerness"] = "auto", ["create_response"] = true, ["interrupt_response"] = true }
            : new JsonObject
            {
                ["type"] = "server_vad", ["threshold"] = 0.5, ["prefix_padding_ms"] = 300, ["silence_duration_ms"] = 500,
                ["idle_timeout_ms"] = null, ["create_response"] = true, ["interrupt_response"] = true,
            };
        foreach (var (key, value) in given)
        {
            filled[key] = value?.DeepClone();
        }

        return filled;
    }

    private ProtocolError? ValidateType(JsonObject update)
    {
        if (!update.TryGetPropertyValue("type", out var type) || type is null)
        {
            return new ProtocolError("missing_required_parameter", "Missing required parameter: 'session.type'.", "session.type");
        }

        var name = type.GetValueKind() == JsonValueKind.String ? type.GetValue<string>() : type.ToJsonString();
        if (name is not ("realtime" or "transcription"))
        {
            return new ProtocolError("invalid_value", $"Invalid value: '{name}'. Supported values are: 'realtime' and 'transcription'.", "session.type");
        }

        return name == TypeName
            ? null
            : new ProtocolError("invalid_value", $"Invalid value: '{name}'. This is a {TypeName} session (chosen by the connection's intent); session.type cannot change.", "session.type");
    }

    private ProtocolError? ValidateModel(JsonObject update) =>
        Type == FakeSessionType.Realtime && update["model"] is { } model && StringOf(model) != StringOf(_current["model"])
            ? new ProtocolError("invalid_value", $"Invalid value: '{StringOf(model)}'. The model of a session cannot be changed.", "session.model")
            : null;

    private ProtocolError? ValidateAudio(JsonNode? audio)
    {
        if (audio is null)
        {
            return null;
        }

        if (audio is not JsonObject audioObject)
        {
            return new ProtocolError("invalid_type", "Invalid type for 'session.audio': expected an object.", "session.audio");
        }

        var error = ValidateKeys(audioObject, Type == FakeSessionType.Transcription ? ["input"] : ["input", "output"], "session.audio");
        if (error is not null)
        {
            return error;
        }

        if (audioObject["output"] is { } output && output is not JsonObject)
        {
            return new ProtocolError("invalid_type", "Invalid type for 'session.audio.output': expected an object.", "session.audio.output");
        }

        if (audioObject["input"] is null)
        {
            return null;
        }

        if (audioObject["input"] is not JsonObject input)
        {
            return new ProtocolError("invalid_type", "Invalid type for 'session.audio.input': expected an object.", "session.audio.input");
        }

        return ValidateKeys(input, InputKeys, "session.audio.input") ?? ValidateFormat(input) ?? ValidateNoiseReduction(input)
            ?? ValidateTranscription(input) ?? ValidateTurnDetection(input);
    }

    private static ProtocolError? ValidateFormat(JsonObject input)
    {
        if (!input.TryGetPropertyValue("format", out var format))
        {
            return null;
        }

        const string Param = "session.audio.input.format";
        if (format is not JsonObject formatObject)
        {
            return new ProtocolError("invalid_type", $"Invalid type for '{Param}': expected an object like {{\"type\":\"audio/pcm\",\"rate\":24000}}.", Param);
        }

        var type = StringOf(formatObject["type"]);
        if (type != "audio/pcm")
        {
            return new ProtocolError("invalid_value", $"Invalid value: '{type}'. The fake server supports only 'audio/pcm' (PCM16 LE mono, 24 kHz).", Param + ".type");
        }

        if (formatObject["rate"] is { } rate && (rate.GetValueKind() != JsonValueKind.Number || rate.GetValue<double>() != 24000))
        {
            return new ProtocolError("invalid_value", $"Invalid value: {rate.ToJsonString()}. Only a 24kHz sample rate is supported.", Param + ".rate");
        }

        return null;
    }

    private static ProtocolError? ValidateNoiseReduction(JsonObject input)
    {
        const string Param = "session.audio.input.noise_reduction";
        return input["noise_reduction"] is { } nr && StringOf(nr["type"]) is not ("near_field" or "far_field")
            ? new ProtocolError("invalid_value", $"Invalid value: '{StringOf(nr["type"])}'. Supported values are: 'near_field' and 'far_field' (or null to disable).", Param + ".type")
            : null;
    }

    private static ProtocolError? ValidateTranscription(JsonObject input)
    {
        const string Param = "session.audio.input.transcription";
        if (input["transcription"] is not { } transcription)
        {
            return null;
        }

        if (transcription is not JsonObject settings)
        {
            return new ProtocolError("invalid_type", $"Invalid type for '{Param}': expected an object or null.", Param);
        }

        var error = ValidateKeys(settings, TranscriptionSettingKeys, Param);
        if (error is not null)
        {
            return error;
        }

        if (settings["model"] is { } model && model.GetValueKind() != JsonValueKind.String)
        {
            return new ProtocolError("invalid_type", $"Invalid type for '{Param}.model': expected a string.", Param + ".model");
        }

        return StringOf(settings["prompt"]) is { Length: > MaxPromptLength } prompt
            ? new ProtocolError("string_above_max_length", $"Invalid '{Param}.prompt': string too long. Expected a string with maximum length {MaxPromptLength}, but got a string with length {prompt.Length} instead.", Param + ".prompt")
            : null;
    }

    private static ProtocolError? ValidateTurnDetection(JsonObject input)
    {
        const string Param = "session.audio.input.turn_detection";
        if (input["turn_detection"] is not { } turnDetection)
        {
            return null;
        }

        if (turnDetection is not JsonObject settings)
        {
            return new ProtocolError("invalid_type", $"Invalid type for '{Param}': expected an object or null.", Param);
        }

        var type = StringOf(settings["type"]);
        if (type is null)
        {
            return new ProtocolError("missing_required_parameter", $"Missing required parameter: '{Param}.type'.", Param + ".type");
        }

        if (type is not ("server_vad" or "semantic_vad"))
        {
            return new ProtocolError("invalid_value", $"Invalid value: '{type}'. Supported values are: 'server_vad' and 'semantic_vad'.", Param + ".type");
        }

        foreach (var key in (string[])["prefix_padding_ms", "silence_duration_ms"])
        {
            if (settings[key] is { } ms && (ms.GetValueKind() != JsonValueKind.Number || !ms.AsValue().TryGetValue<int>(out var value) || value < 0))
            {
                return new ProtocolError("invalid_value", $"Invalid value: {ms.ToJsonString()}. '{Param}.{key}' must be a non-negative integer.", $"{Param}.{key}");
            }
        }

        return settings["threshold"] is { } threshold && (threshold.GetValueKind() != JsonValueKind.Number || threshold.GetValue<double>() is < 0 or > 1)
            ? new ProtocolError("decimal_above_max_value", $"Invalid '{Param}.threshold': expected a number between 0.0 and 1.0, got {threshold.ToJsonString()}.", Param + ".threshold")
            : null;
    }

    private static ProtocolError? ValidateInclude(JsonNode? include)
    {
        const string Param = "session.include";
        if (include is null)
        {
            return null;
        }

        return include is JsonArray items && items.All(i => StringOf(i) == "item.input_audio_transcription.logprobs")
            ? null
            : new ProtocolError("invalid_value", $"Invalid value for '{Param}': supported values are: 'item.input_audio_transcription.logprobs'.", Param);
    }

    private static ProtocolError? ValidateKeys(JsonObject obj, string[] allowed, string path)
    {
        var unknown = obj.Select(p => p.Key).FirstOrDefault(k => !allowed.Contains(k));
        return unknown is null ? null : new ProtocolError("unknown_parameter", $"Unknown parameter: '{path}.{unknown}'.", $"{path}.{unknown}");
    }

    private static string? StringOf(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node?.ToJsonString();

    private static JsonObject InputDefaults(bool conversation)
    {
        var turnDetection = new JsonObject { ["type"] = "server_vad", ["threshold"] = 0.5, ["prefix_padding_ms"] = 300, ["silence_duration_ms"] = 500 };
        if (conversation)
        {
            turnDetection["idle_timeout_ms"] = null;
            turnDetection["create_response"] = true;
            turnDetection["interrupt_response"] = true;
        }

        return new JsonObject
        {
            ["format"] = new JsonObject { ["type"] = "audio/pcm", ["rate"] = 24000 },
            ["transcription"] = null,
            ["noise_reduction"] = null,
            ["turn_detection"] = turnDetection,
        };
    }

    private static JsonObject TranscriptionDefaults(string id, long expiresAt) => new()
    {
        ["type"] = "transcription",
        ["object"] = "realtime.transcription_session",
        ["id"] = id,
        ["expires_at"] = expiresAt,
        ["audio"] = new JsonObject { ["input"] = InputDefaults(conversation: false) },
        ["include"] = null,
    };

    private static JsonObject RealtimeDefaults(string id, string? model, long expiresAt) => new()
    {
        ["type"] = "realtime",
        ["object"] = "realtime.session",
        ["id"] = id,
        ["model"] = model ?? "gpt-realtime",
        ["output_modalities"] = new JsonArray("audio"),
        ["instructions"] = "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI.",
        ["tools"] = new JsonArray(),
        ["tool_choice"] = "auto",
        ["max_output_tokens"] = "inf",
        ["tracing"] = null,
        ["prompt"] = null,
        ["truncation"] = "auto",
        ["expires_at"] = expiresAt,
        ["audio"] = new JsonObject
        {
            ["input"] = InputDefaults(conversation: true),
            ["output"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "audio/pcm", ["rate"] = 24000 }, ["voice"] = "marin", ["speed"] = 1 },
        },
        ["include"] = null,
    };
}
