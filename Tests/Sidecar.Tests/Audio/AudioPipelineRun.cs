using CaptionSidecar.Audio;

namespace CaptionSidecar.Tests.Audio;

/// <summary>Runs a pipeline to the end of its input in a test, reading its output as a track would.</summary>
internal static class AudioPipelineRun
{
    /// <summary>Every chunk <paramref name="pipeline"/> puts out, in order, once its input has ended.</summary>
    public static async Task<List<AudioChunk>> CollectAsync(AudioPipeline pipeline, CancellationToken cancellationToken)
    {
        var output = new List<AudioChunk>();
        var reading = Task.Run(
            async () =>
            {
                await foreach (var chunk in pipeline.Output.ReadAllAsync(cancellationToken))
                {
                    output.Add(chunk);
                }
            },
            cancellationToken);
        await pipeline.RunAsync(cancellationToken);
        await reading;
        return output;
    }
}
