// PLACEHOLDER (contract only): the audio helper replaces this file.
namespace CaptionSidecar.Audio;

internal sealed class AudioSourceFactory : IAudioSourceFactory
{
    public IAudioSource Create(AudioOptions options) => throw new NotImplementedException();
}
