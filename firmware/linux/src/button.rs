//! Push buttons: a pure debouncer, and (feature `gpio`) a `Button` over any embedded-hal input
//! pin plus a `Backlight` output helper, with constructors for the GPIO character device.
//!
//! Time is passed in by the caller as a [`Duration`] since any fixed start (a
//! [`sentio_hal::Clock`] reading), so the logic is deterministic and tested without hardware.

use std::time::Duration;

/// A debounced edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ButtonEvent {
    Pressed,
    Released,
}

/// Turns raw pressed/released samples into clean edges.
///
/// The debounced state changes only once the raw level has differed from it for at least the
/// debounce interval, in every sample taken over that interval; a bounce shorter than the
/// interval produces no event. The state starts released, so a button already held down when
/// polling starts reports [`ButtonEvent::Pressed`] once the interval has passed.
#[derive(Clone, Debug)]
pub struct Debouncer {
    interval: Duration,
    pressed: bool,
    /// The raw level that differs from `pressed`, and when it was first seen.
    pending: Option<(bool, Duration)>,
}

impl Debouncer {
    pub fn new(interval: Duration) -> Self {
        Debouncer {
            interval,
            pressed: false,
            pending: None,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The debounced state.
    pub fn is_pressed(&self) -> bool {
        self.pressed
    }

    /// Feeds one raw sample taken at `now` (time must not go backwards; if it does, the sample
    /// counts as taken at the previous time).
    pub fn update(&mut self, raw_pressed: bool, now: Duration) -> Option<ButtonEvent> {
        if raw_pressed == self.pressed {
            self.pending = None;
            return None;
        }
        let since = match self.pending {
            Some((level, since)) if level == raw_pressed => since,
            _ => {
                self.pending = Some((raw_pressed, now));
                now
            }
        };
        if now.saturating_sub(since) >= self.interval {
            self.pressed = raw_pressed;
            self.pending = None;
            Some(if raw_pressed {
                ButtonEvent::Pressed
            } else {
                ButtonEvent::Released
            })
        } else {
            None
        }
    }
}

#[cfg(feature = "gpio")]
pub use with_gpio::*;

#[cfg(feature = "gpio")]
mod with_gpio {
    use std::path::Path;
    use std::time::Duration;

    use embedded_hal::digital::{InputPin, OutputPin};
    use linux_embedded_hal::CdevPin;
    use linux_embedded_hal::gpio_cdev::LineRequestFlags;
    use sentio_hal::HalError;

    use super::{ButtonEvent, Debouncer};
    use crate::linux_errors::{digital_error, request_line};

    /// Debounce interval of [`open_cdev_button`]: longer than the bounce of common tactile
    /// switches (a few ms), shorter than a deliberate tap.
    pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(30);

    /// A push button on an input pin, debounced, polled by the caller.
    ///
    /// `active_low` is the usual wiring (switch to ground, pull-up on the line): the button is
    /// pressed when the pin reads low.
    pub struct Button<P> {
        pin: P,
        active_low: bool,
        debouncer: Debouncer,
        name: String,
    }

    impl<P: InputPin> Button<P> {
        pub fn new(pin: P, active_low: bool, debounce: Duration) -> Self {
            Button {
                pin,
                active_low,
                debouncer: Debouncer::new(debounce),
                name: "button".to_string(),
            }
        }

        /// Names the button in errors ("button gpiochip0 line 17").
        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = name.into();
            self
        }

        pub fn set_debounce(&mut self, debounce: Duration) {
            self.debouncer = Debouncer {
                interval: debounce,
                ..self.debouncer.clone()
            };
        }

        /// Samples the pin at time `now` and returns the debounced edge, if one happened. Poll
        /// at least a few times per debounce interval.
        pub fn poll(&mut self, now: Duration) -> Result<Option<ButtonEvent>, HalError> {
            let high = self
                .pin
                .is_high()
                .map_err(|e| digital_error(&self.name, "cannot read the pin", &e))?;
            Ok(self.debouncer.update(high != self.active_low, now))
        }

        /// The debounced state after the last [`Button::poll`].
        pub fn is_pressed(&self) -> bool {
            self.debouncer.is_pressed()
        }

        pub fn into_inner(self) -> P {
            self.pin
        }
    }

    /// Polled once per frame by the device (15-30 times a second): a press held for two
    /// frames past the debounce interval counts once.
    impl<P: InputPin> sentio_hal::PushButton for Button<P> {
        fn pressed(&mut self, now: Duration) -> Result<bool, HalError> {
            Ok(self.poll(now)? == Some(ButtonEvent::Pressed))
        }
    }

    /// Opens line `line` of a GPIO chip (`/dev/gpiochip0`) as a button input, debounced with
    /// [`DEFAULT_DEBOUNCE`].
    ///
    /// The character-device interface used here cannot enable the SoC's pull resistors: wire an
    /// external pull-up (or set one at boot, `gpio=17=ip,pu` in a Pi's config.txt).
    pub fn open_cdev_button(
        chip_path: impl AsRef<Path>,
        line: u32,
        active_low: bool,
    ) -> Result<Button<CdevPin>, HalError> {
        let chip_path = chip_path.as_ref();
        let (pin, name) = request_line(chip_path, line, LineRequestFlags::INPUT, 0, "button")?;
        Ok(Button::new(pin, active_low, DEFAULT_DEBOUNCE).with_name(name))
    }

    /// A display backlight (or any on/off output) on an output pin.
    pub struct Backlight<P> {
        pin: P,
        active_low: bool,
        on: bool,
        name: String,
    }

    impl<P: OutputPin> Backlight<P> {
        /// Wraps a pin; the light's state is unknown until the first [`Backlight::set`].
        pub fn new(pin: P, active_low: bool) -> Self {
            Backlight {
                pin,
                active_low,
                on: false,
                name: "backlight".to_string(),
            }
        }

        pub fn with_name(mut self, name: impl Into<String>) -> Self {
            self.name = name.into();
            self
        }

        pub fn set(&mut self, on: bool) -> Result<(), HalError> {
            let result = if on != self.active_low {
                self.pin.set_high()
            } else {
                self.pin.set_low()
            };
            result.map_err(|e| digital_error(&self.name, "cannot drive the pin", &e))?;
            self.on = on;
            Ok(())
        }

        pub fn is_on(&self) -> bool {
            self.on
        }

        pub fn into_inner(self) -> P {
            self.pin
        }
    }

    /// Opens line `line` of a GPIO chip as a backlight output and switches the light on.
    pub fn open_cdev_backlight(
        chip_path: impl AsRef<Path>,
        line: u32,
        active_low: bool,
    ) -> Result<Backlight<CdevPin>, HalError> {
        let on_level = u8::from(!active_low);
        let (pin, name) = request_line(
            chip_path.as_ref(),
            line,
            LineRequestFlags::OUTPUT,
            on_level,
            "backlight",
        )?;
        let mut light = Backlight::new(pin, active_low).with_name(name);
        light.set(true)?;
        Ok(light)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Feeds (time ms, raw pressed) samples and collects (time ms, event).
    fn run(deb: &mut Debouncer, script: &[(u64, bool)]) -> Vec<(u64, ButtonEvent)> {
        script
            .iter()
            .filter_map(|&(t, raw)| deb.update(raw, ms(t)).map(|e| (t, e)))
            .collect()
    }

    #[test]
    fn clean_press_and_release_give_one_edge_each() {
        let mut d = Debouncer::new(ms(20));
        let script: Vec<(u64, bool)> = (0..100).map(|t| (t, (10..60).contains(&t))).collect();
        assert_eq!(
            run(&mut d, &script),
            [(30, ButtonEvent::Pressed), (80, ButtonEvent::Released)]
        );
        assert!(!d.is_pressed());
    }

    #[test]
    fn bounces_shorter_than_the_interval_give_no_event() {
        let mut d = Debouncer::new(ms(20));
        // Contact chatter: closed for 3 ms, open 2 ms, ... never 20 ms in a row.
        let mut script = Vec::new();
        for t in 0..200u64 {
            script.push((t, t % 5 < 3));
        }
        assert!(run(&mut d, &script).is_empty());
        assert!(!d.is_pressed());
        // A real press after the chatter still registers, measured from its last bounce.
        let script: Vec<(u64, bool)> = (200..260).map(|t| (t, t != 205)).collect();
        assert_eq!(run(&mut d, &script), [(226, ButtonEvent::Pressed)]);
    }

    #[test]
    fn bouncing_edges_produce_single_events() {
        let mut d = Debouncer::new(ms(10));
        // Press with bounces at 0..6 ms, held, release with bounces at 100..104 ms.
        let raw = |t: u64| match t {
            0..=5 => t.is_multiple_of(2),
            6..=99 => true,
            100..=104 => t % 2 == 1,
            _ => false,
        };
        let script: Vec<(u64, bool)> = (0..200).map(|t| (t, raw(t))).collect();
        assert_eq!(
            run(&mut d, &script),
            [(16, ButtonEvent::Pressed), (114, ButtonEvent::Released)]
        );
    }

    #[test]
    fn sparse_polling_and_time_going_backwards() {
        let mut d = Debouncer::new(ms(20));
        assert_eq!(d.update(true, ms(0)), None);
        // The next poll comes late: the level held, so the press is reported then.
        assert_eq!(d.update(true, ms(50)), Some(ButtonEvent::Pressed));
        assert_eq!(d.update(false, ms(60)), None);
        // A clock that steps back does not underflow or fire early.
        assert_eq!(d.update(false, ms(40)), None);
        assert_eq!(d.update(false, ms(80)), Some(ButtonEvent::Released));
        // A zero interval passes every change through.
        let mut z = Debouncer::new(Duration::ZERO);
        assert_eq!(z.update(true, ms(1)), Some(ButtonEvent::Pressed));
        assert_eq!(z.update(false, ms(1)), Some(ButtonEvent::Released));
    }

    #[cfg(feature = "gpio")]
    mod pins {
        use std::convert::Infallible;
        use std::time::Duration;

        use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

        use crate::button::{Backlight, Button, ButtonEvent};

        /// An input pin that replays levels from a script, one per read.
        struct ScriptedPin {
            levels: std::vec::IntoIter<bool>,
            last: bool,
        }

        impl ErrorType for ScriptedPin {
            type Error = Infallible;
        }

        impl InputPin for ScriptedPin {
            fn is_high(&mut self) -> Result<bool, Infallible> {
                if let Some(level) = self.levels.next() {
                    self.last = level;
                }
                Ok(self.last)
            }
            fn is_low(&mut self) -> Result<bool, Infallible> {
                self.is_high().map(|h| !h)
            }
        }

        #[test]
        fn active_low_button_with_bouncing_contacts() {
            // 1 ms polls. Idle high (pull-up), pressed pulls low. Bounces of 1-4 ms at both edges.
            let mut levels = vec![true; 10];
            levels.extend([false, true, false, false, true, false, true]); // press bounce
            levels.extend(vec![false; 60]); // held
            levels.extend([true, false, true, true, false, true]); // release bounce
            levels.extend(vec![true; 60]);
            let n = levels.len();
            let pin = ScriptedPin {
                levels: levels.into_iter(),
                last: true,
            };
            let mut button = Button::new(pin, true, Duration::from_millis(10));
            let mut events = Vec::new();
            for t in 0..n as u64 {
                if let Some(e) = button.poll(Duration::from_millis(t)).unwrap() {
                    events.push((t, e));
                }
            }
            // Pressed 10 ms after the last press bounce ends (low from t = 17), released 10 ms
            // after the last release bounce ends (high from t = 82).
            assert_eq!(
                events,
                [(27, ButtonEvent::Pressed), (92, ButtonEvent::Released)]
            );
        }

        #[test]
        fn active_high_button() {
            let mut levels = vec![false; 5];
            levels.extend(vec![true; 30]);
            let pin = ScriptedPin {
                levels: levels.into_iter(),
                last: false,
            };
            let mut button = Button::new(pin, false, Duration::from_millis(5));
            let events: Vec<_> = (0..35)
                .filter_map(|t| button.poll(Duration::from_millis(t)).unwrap())
                .collect();
            assert_eq!(events, [ButtonEvent::Pressed]);
            assert!(button.is_pressed());
        }

        #[derive(Default)]
        struct RecordingPin(Vec<bool>);
        impl ErrorType for RecordingPin {
            type Error = Infallible;
        }
        impl OutputPin for RecordingPin {
            fn set_low(&mut self) -> Result<(), Infallible> {
                self.0.push(false);
                Ok(())
            }
            fn set_high(&mut self) -> Result<(), Infallible> {
                self.0.push(true);
                Ok(())
            }
        }

        #[test]
        fn backlight_respects_polarity() {
            let mut light = Backlight::new(RecordingPin::default(), true);
            light.set(true).unwrap();
            light.set(false).unwrap();
            assert!(!light.is_on());
            assert_eq!(light.into_inner().0, [false, true]);
        }

        #[test]
        fn missing_gpio_chip_is_a_clear_error() {
            let err =
                match crate::button::open_cdev_button("/dev/gpiochip-sentio-missing", 17, true) {
                    Ok(_) => panic!("opened a chip that does not exist"),
                    Err(e) => e,
                };
            assert_eq!(err.kind(), sentio_hal::ErrorKind::NotFound);
            let text = err.to_string();
            assert!(text.contains("/dev/gpiochip-sentio-missing"), "{text}");
            let help = err.help_text().unwrap_or_default();
            assert!(help.contains("gpiodetect"), "{text} / {help}");
        }
    }
}
