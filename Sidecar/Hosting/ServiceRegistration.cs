using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Costs;
using CaptionSidecar.Languages;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Outputs;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.RelayOutput;
using CaptionSidecar.Retries;
using CaptionSidecar.Speakers;
using CaptionSidecar.TestPattern;
using CaptionSidecar.Tracks;
using CaptionSidecar.Translation;
using CaptionSidecar.YouTube;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Hosting;

/// <summary>Registers each part of the sidecar with the host.</summary>
public static class ServiceRegistration
{
    /// <summary>Binds every options class to its configuration section and validates them all at start.</summary>
    public static IServiceCollection AddSidecarOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SidecarOptions>().Bind(configuration.GetSection(SidecarOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AudioOptions>().Bind(configuration.GetSection(AudioOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CaptionOptions>().Bind(configuration.GetSection(CaptionOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RealtimeOptions>().Bind(configuration.GetSection(RealtimeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LanguageOptions>().Bind(configuration.GetSection(LanguageOptions.Section)).ValidateOnStart();
        services.AddOptions<PricingOptions>().Bind(configuration.GetSection(PricingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SidecarOptions>, SidecarOptionsValidator>();
        services.AddSingleton<IValidateOptions<LanguageOptions>, LanguageOptionsValidator>();
        services.AddSingleton<IValidateOptions<AudioOptions>, AudioOptionsValidator>();
        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();

        // The Speakers list (settings or --speaker): bound from the root, so the section is "Speakers".
        services.AddOptions<SpeakerListOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SpeakerListOptions>, SpeakerListValidator>();
        services.AddSingleton(sp => SpeakerRoster.Resolve(
            sp.GetRequiredService<IOptions<SpeakerListOptions>>().Value,
            sp.GetRequiredService<IOptions<AudioOptions>>().Value,
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value,
            configuration[$"{ObsOptions.Section}:{nameof(ObsOptions.MuteSource)}"]));
        return services;
    }

    /// <summary>The caption dispatcher and the outputs that ship with the sidecar (console, transcripts, OBS, the relay on NATS).</summary>
    public static IServiceCollection AddCaptionOutputs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ICaptionSink, ConsoleCaptionSink>();
        if (!string.IsNullOrWhiteSpace(configuration[$"{CaptionOptions.Section}:{nameof(CaptionOptions.TranscriptDirectory)}"]))
        {
            services.AddSingleton<ICaptionSink, TranscriptWriter>();
        }

        services.AddOptions<ObsOptions>().Bind(configuration.GetSection(ObsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        if (configuration.GetValue($"{ObsOptions.Section}:{nameof(ObsOptions.Enabled)}", defaultValue: true))
        {
            services.AddObsOutput();
        }

        services.AddOptions<RelayPublisherOptions>().Bind(configuration.GetSection(RelayPublisherOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RelayPublisherOptions>, RelayPublisherOptionsValidator>();
        if (!string.IsNullOrWhiteSpace(configuration[$"{RelayPublisherOptions.Section}:{nameof(RelayPublisherOptions.Url)}"]))
        {
            services.AddRelayOutput();
        }

        services.AddYouTubeOutput(configuration);

        services.AddSingleton<CaptionDispatcher>();
        services.AddSingleton<ICaptionPublisher>(sp => sp.GetRequiredService<CaptionDispatcher>());
        // Registered before the pipeline so it stops after it: the pipeline finishes, then the outputs drain.
        services.AddHostedService(sp => sp.GetRequiredService<CaptionDispatcher>());
        return services;
    }

    /// <summary>
    /// The OBS client and caption output (ObsBridge) configured from <see cref="ObsOptions"/>, the sink that adapts
    /// caption updates to it, and its connection's lifetime. Registered before the dispatcher so that it stops after
    /// the dispatcher has delivered the last updates.
    /// </summary>
    public static IServiceCollection AddObsOutput(this IServiceCollection services)
    {
        // ObsBridge registers its own types; the sidecar gives it the settings and the product's one retry policy.
        services.AddObsBridge();
        services.AddOptions<ObsClientOptions>().Configure<IOptions<ObsOptions>, TimeProvider>((client, obs, time) =>
        {
            client.Url = obs.Value.Url;
            client.Password = obs.Value.Password;
            client.Retry = Backoff.Forever(BackoffSettings.LocalPeer, time);
        });
        services.AddOptions<ObsCaptionOutputOptions>().Configure<IOptions<ObsOptions>, TimeProvider>((output, obs, time) =>
        {
            output.SourceNameTemplate = obs.Value.SourceTemplate;
            output.SceneName = string.IsNullOrWhiteSpace(obs.Value.Scene) ? null : obs.Value.Scene;
            output.NativeCaptionLanguage = string.IsNullOrWhiteSpace(obs.Value.NativeCaptions) ? null : obs.Value.NativeCaptions;
            output.Retry = Backoff.Forever(BackoffSettings.LocalPeer, time);
        });
        services.AddSingleton<ICaptionSink, ObsCaptionSink>();
        services.AddHostedService<ObsConnection>();
        return services;
    }

    /// <summary>
    /// The YouTube caption output (captions posted to YouTube Live's ingestion URL) and the audio timeline its times
    /// come from. Always registered: a moderator may set the URL from the control page while live; without one it
    /// posts nothing. Registered before the dispatcher so that it stops after it (and posts the last lines).
    /// </summary>
    public static IServiceCollection AddYouTubeOutput(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<YouTubeOptions>().Bind(configuration.GetSection(YouTubeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<YouTubeOptions>, YouTubeOptionsValidator>();
        services.TryAddSingleton(sp => new AudioTimeline(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IYouTubeSettingsStore>(sp => new YouTubeSettingsFile(
            Path.Combine(sp.GetRequiredService<DataFolders>().Root, YouTubeSettingsFile.FileName), sp.GetRequiredService<ILogger<YouTubeSettingsFile>>()));
        services.AddSingleton<YouTubeOutput>();
        services.AddHostedService(sp => sp.GetRequiredService<YouTubeOutput>());
        services.AddSingleton<ICaptionSink, YouTubeCaptionSink>();
        return services;
    }

    /// <summary>
    /// The publisher to NATS for the viewer relays (docs/relay.md) and the sink that feeds it. Registered before the
    /// dispatcher so that it stops after the dispatcher has handed it the last updates (and closed every language).
    /// </summary>
    public static IServiceCollection AddRelayOutput(this IServiceCollection services)
    {
        services.AddSingleton<RelayPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<RelayPublisher>());
        services.AddSingleton<ICaptionSink, RelayCaptionSink>();
        return services;
    }

    /// <summary>
    /// Audio input: the sources the speakers name, the voice gate, whose hangover follows the Realtime turn detection
    /// (see <see cref="VoiceGateChoice.Resolve"/>), and each speaker's hold while their mic is muted in OBS (see
    /// <see cref="SpeakerHolds"/>).
    /// </summary>
    public static IServiceCollection AddAudioInput(this IServiceCollection services)
    {
        services.AddSingleton<IAudioSourceFactory, AudioSourceFactory>();
        services.AddSingleton(sp => VoiceGateChoice.Resolve(
            sp.GetRequiredService<IOptions<AudioOptions>>().Value,
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value));
        // An OBS mute watch exists only for a speaker whose hold is on (OBS on, an engine that hears audio, a source named).
        services.AddSingleton<SpeakerHolds>();
        services.AddSingleton<Func<Speaker, AudioHoldChoice>>(sp => sp.GetRequiredService<SpeakerHolds>().For);
        return services;
    }

    /// <summary>The engines (Realtime, test pattern) and the choice between them, the language switchboard and the cost meter.</summary>
    public static IServiceCollection AddCaptionEngines(this IServiceCollection services)
    {
        services.AddSingleton<LanguageSwitchboard>();
        services.AddSingleton<CostMeter>();
        services.AddSingleton<IRealtimeConnector, OpenAiRealtimeConnector>();
        services.AddSingleton<RealtimeTrackFactory>();
        services.AddSingleton<RealtimeTextTranslationTrackFactory>();

        // Only the Realtime engine translates text; the test pattern captions every language itself (and has no key
        // to connect with), so it gets a factory that is never asked (the pipeline plans no text track without audio).
        services.AddSingleton<ITextTranslationTrackFactory>(sp => sp.GetRequiredService<EngineChoice>().Engine switch
        {
            EngineChoice.OpenAi => sp.GetRequiredService<RealtimeTextTranslationTrackFactory>(),
            _ => NoTextTranslation.Instance,
        });
        services.AddSingleton(sp => LoadGlossary(sp.GetRequiredService<IOptions<RealtimeOptions>>().Value));
        services.AddHostedService<GlossaryWatcher>();
        services.AddSingleton<TestPatternTrackFactory>();
        services.AddSingleton(sp => EngineChoice.Resolve(
            sp.GetRequiredService<IOptions<SidecarOptions>>().Value,
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value));
        services.AddSingleton<ILanguageTrackFactory>(sp => sp.GetRequiredService<EngineChoice>().Engine switch
        {
            EngineChoice.OpenAi => sp.GetRequiredService<RealtimeTrackFactory>(),
            _ => sp.GetRequiredService<TestPatternTrackFactory>(),
        });
        return services;
    }

    /// <summary>The glossary at start (the options validation already refused a bad file); empty without a file.</summary>
    private static GlossarySource LoadGlossary(RealtimeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.GlossaryFile))
        {
            return GlossarySource.None;
        }

        var path = Path.GetFullPath(options.GlossaryFile);
        var (glossary, _) = GlossarySource.Check(path, File.ReadAllText(path), options.Prompt);

        // Changed for the worse since the validation: start without it; the watcher logs why and applies a fixed file.
        return new GlossarySource(path, options.Prompt, glossary ?? Glossary.Empty);
    }
}
